"""Checks that Package.swift declares every module each target imports.

Reads the targets and their dependencies from `swift package dump-package` and the imports from
each target's sources; modules of the toolchain (Foundation, Testing, …) need no declaration.
Prints one line per missing declaration and exits 1 when there is any.
Run by Tests/HearthCLITests/PackageTests.swift: python3 package_imports.py PACKAGE_DIR
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile

TOOLCHAIN = {
    "Foundation", "FoundationNetworking", "FoundationEssentials", "Dispatch", "Glibc", "Darwin",
    "Synchronization", "Testing", "XCTest", "PackageDescription", "PackagePlugin", "_Concurrency",
}
IMPORT = re.compile(r"^(?:@testable\s+|@_exported\s+)?import\s+(?:(?:struct|class|enum|func|protocol)\s+)?([A-Za-z_]\w*)")


def imports(text: str) -> set:
    """The modules a Swift file imports: its import lines, which come before any other code."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("//", "/*", "*", "#if", "#else", "#elseif", "#endif")):
            continue
        match = IMPORT.match(line)
        if not match:
            break
        found.add(match.group(1))
    return found


def main(root: pathlib.Path) -> int:
    # Its own scratch path: `swift test`, which runs this, holds the lock on .build.
    with tempfile.TemporaryDirectory() as scratch:
        package = json.loads(
            subprocess.run(
                ["swift", "package", "--scratch-path", scratch, "dump-package"],
                cwd=root, check=True, capture_output=True, text=True,
            ).stdout
        )
    problems = []
    for target in package["targets"]:
        if target["type"] in ("system", "plugin"):
            continue
        declared = set()
        for dependency in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in dependency:
                    declared.add(dependency[kind][0])
        path = root / (target.get("path") or ("Tests" if target["type"] == "test" else "Sources")
                       + ("" if target.get("path") else "/" + target["name"]))
        imported = set()
        for source in path.rglob("*.swift"):
            imported.update(imports(source.read_text(encoding="utf-8")))
        for module in sorted(imported - declared - TOOLCHAIN - {target["name"]}):
            problems.append(f"{target['name']} imports {module} but Package.swift does not declare it")
    print("\n".join(problems) if problems else f"every import of {len(package['targets'])} targets is declared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1])))
