{
  "targets": [
    {
      "target_name": "vmac_conntrack",
      "sources": ["conntrack_shim.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
