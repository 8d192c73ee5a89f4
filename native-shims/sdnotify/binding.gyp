{
  "targets": [
    {
      "target_name": "vmac_sdnotify",
      "sources": ["sdnotify_shim.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
