{
  "targets": [
    {
      "target_name": "vmac_xdp",
      "sources": ["xdp_shim.c"],
      "libraries": ["-lbpf"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
