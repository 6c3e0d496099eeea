"""``python -m mock.docs --out DIR``: write the static site (what ``make docs`` runs)."""

from __future__ import annotations

from pathlib import Path

import click

from mock.docs.site import build_site


@click.command()
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("site"))
def main(out: Path) -> None:
    """Write the static documentation site into OUT."""
    for path in build_site(out):
        click.echo(path)


if __name__ == "__main__":
    main()
