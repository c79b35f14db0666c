"""Answers `hearth restore`'s question in a pseudo-terminal, as a person at the keyboard would.

Usage: restore_prompt.py HEARTH_BINARY BACKUP IDENTITY DATA_DIR ANSWER
Prints what the command showed; exits with the command's status.
"""

import sys

import pexpect

binary, backup, identity, data, answer = sys.argv[1:6]
child = pexpect.spawn(binary, ["restore", backup, "--identity", identity, "--data", data], timeout=60,
                      encoding="utf-8")
child.expect(r"\[y/N\] ")
shown = child.before
child.sendline(answer)
child.expect(pexpect.EOF)
print(shown + child.before)
child.close()
sys.exit(child.exitstatus or 0)
