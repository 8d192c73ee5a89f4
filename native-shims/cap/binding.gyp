{
  'targets': [
    {
      'target_name': 'cap',
      'sources': [
        'src/binding.cc',
      ],
      'include_dirs': [
        "<!(node -e \"require('nan')\")",
      ],
      # Vendored for Linux only: the Windows (WinPcap) branch of cap 0.2.1's binding.gyp and
      # its deps/winpcap were dropped (see PATCHES.md).
      'link_settings': {
        'libraries': ['-lpcap'],
      },
    },
  ],
}
