-- GET with the bearer key: wrk ... URL -- TOKEN
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. args[1]
end
