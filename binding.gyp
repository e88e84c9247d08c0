{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["native/peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "conditions": [["OS!='linux'", { "type": "none", "sources": [] }]]
    }
  ]
}
