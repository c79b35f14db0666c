"""Drives Debian's age through a pseudo-terminal, where it reads passphrases.

Usage: age_passphrase.py decrypt FILE OUT PASSPHRASE
       age_passphrase.py encrypt FILE OUT PASSPHRASE
"""

import sys

import pexpect

mode, source, target, passphrase = sys.argv[1:5]
if mode == "decrypt":
    child = pexpect.spawn("age", ["-d", "-o", target, source], timeout=60)
    child.expect("Enter passphrase")
    child.sendline(passphrase)
else:
    child = pexpect.spawn("age", ["-p", "-o", target, source], timeout=60)
    child.expect("Enter passphrase")
    child.sendline(passphrase)
    child.expect("Confirm passphrase")
    child.sendline(passphrase)
child.expect(pexpect.EOF)
child.close()
sys.exit(child.exitstatus or 0)
