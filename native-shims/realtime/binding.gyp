{
  "targets": [
    {
      "target_name": "vmac_realtime",
      "sources": ["realtime_shim.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
