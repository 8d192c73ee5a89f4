{
  "targets": [
    {
      "target_name": "vmac_nftables",
      "sources": ["nftables_shim.c"],
      "libraries": ["-lnftables"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
