# Copyright (c) mmexact contributors. All rights reserved.
"""`make demo`: the end-to-end Exact demo on generated data.

The demo (synthetic PASTIS generator + the whole Exact pipeline) is not
available yet; see the README for what works today.
"""


def main() -> None:
    print('make demo: not yet available. The Exact pipeline demo lands with '
          'the synthetic PASTIS generator; today you can train and test the '
          'fully supervised TSViT, see README.md.')


if __name__ == '__main__':
    main()
