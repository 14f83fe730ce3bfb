{
  "targets": [
    {
      "target_name": "corolistener",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/fd_watcher.cc",
        "native/corosync_handle.cc",
        "native/quorum.cc",
        "native/cpg.cc",
        "native/cmap.cc",
        "native/cfg.cc",
        "native/votequorum.cc",
        "native/arp.cc",
        "native/net.cc",
        "native/ipc_rings.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I libcpg libquorum libcmap libcfg libvotequorum libqb libmnl | sed 's/-I//g')"
      ],
      "libraries": [
        "<!@(pkg-config --libs libcpg libquorum libcmap libcfg libvotequorum libqb libmnl)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
