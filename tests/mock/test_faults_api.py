"""The faults of the testing kit's async API (`AsyncSandbox.fail`, ...) against a mock it starts itself."""

from __future__ import annotations

import httpx
import pytest

from incident_mock.testing import AsyncFault, AsyncIncidentMock, ControlPlaneError

CREATE = "Incidents V2#Create"


async def test_async_sandbox_arms_lists_and_removes_faults() -> None:
    async with AsyncIncidentMock() as mock, mock.sandbox() as sandbox:
        fault = await sandbox.fail("Severities V1#List", status=500, times=2)
        assert isinstance(fault, AsyncFault) and (fault.kind, fault.remaining) == ("error", 2)
        headers = {"Authorization": f"Bearer {sandbox.keys.viewer}"}
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers=headers) as api:
            assert (await api.get("/v1/severities")).status_code == 500
            [entry] = await sandbox.requests("Severities V1#List")
            assert entry.fault is not None and entry.fault["id"] == fault.id
            [listed] = await sandbox.faults()
            assert (listed.id, listed.remaining, listed.fired) == (fault.id, 1, 1)
            await fault.remove()
            assert (await api.get("/v1/severities")).status_code == 200
        with pytest.raises(ControlPlaneError) as refused:
            await sandbox.fail(CREATE, status=404)
        assert refused.value.status == 422 and "400, 401" in refused.value.body
        await sandbox.fail(kind="delay", seconds=0.01)
        await sandbox.clear_faults()
        assert await sandbox.faults() == []
