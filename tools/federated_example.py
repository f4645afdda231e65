"""PLACEHOLDER for the tffx federated example (README's main command).

TODO: replace this file with the real example (federated training on
simulated clients with tffx); until then it only says it is not available.
"""

import sys


def main():
  print("tffx federated example: not yet available")
  return 0


if __name__ == "__main__":
  sys.exit(main())
