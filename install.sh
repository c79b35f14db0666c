#!/usr/bin/env bash
# Installs Hearth on a Debian (12 or later) machine that has the Swift toolchain.
#
#   ./install.sh            build and install the `hearth` binary
#   ./install.sh --service  also run it as a systemd service (user `hearth`, data in /var/lib/hearth)
#
# Safe to run again: it only installs what is missing and replaces the binary with a fresh build.
set -euo pipefail

service=false
for argument in "$@"; do
    case "$argument" in
        --service) service=true ;;
        -h|--help)
            sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        *) echo "install.sh: unknown option '$argument' (try --help)" >&2; exit 64 ;;
    esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

cd "$(dirname "$0")"

if [ "$(id -u)" -eq 0 ]; then sudo=""; else
    command -v sudo >/dev/null || die "run as root, or install sudo, to install the Debian packages."
    sudo="sudo"
fi
$service && [ "$(id -u)" -ne 0 ] && [ -z "$sudo" ] && die "--service needs root."

# 1. The C libraries Hearth links against.
command -v apt-get >/dev/null || die "apt-get not found: Hearth's installer supports Debian and its derivatives.
Install libsqlite3-dev, libssl-dev, libargon2-dev, libqrencode-dev and libre2-dev by hand, then run: swift build -c release"
packages=(libsqlite3-dev libssl-dev libargon2-dev libqrencode-dev libre2-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
    say "Debian packages already installed"
fi

# 2. Build.
command -v swift >/dev/null || die "swift not found. Install the Swift toolchain (6.1 or later) from
https://www.swift.org/install/linux/ and put its usr/bin on your PATH, then run ./install.sh again."
say "Building hearth in release mode (the first build takes several minutes)"
# The Swift runtime is linked into the binary: it then runs without the toolchain's libraries,
# and an idle server maps fewer pages. Where the C library can load them (glibc 2.36, Debian 12),
# the toolchain's lld also packs the binary's 130,000 relative relocations (DT_RELR): at start the
# loader then reads 25 KiB of them instead of 3 MiB, and an idle server is about 34 MiB resident
# instead of 39-41 (docs/PERFORMANCE.md).
build=(-c release --static-swift-stdlib)
glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
toolchain="$(dirname "$(readlink -f "$(command -v swift)")")"
if [ -n "$glibc" ] && printf '2.36\n%s\n' "$glibc" | sort -C -V && [ -x "$toolchain/ld.lld" ]; then
    build+=(-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs)
fi
swift build "${build[@]}" --product hearth
binary="$(swift build "${build[@]}" --show-bin-path)/hearth"
[ -x "$binary" ] || die "the build did not produce $binary"
"$binary" --help >/dev/null || die "the built $binary does not run"

# 3. Install the binary.
if [ "$(id -u)" -eq 0 ]; then target=/usr/local/bin; else target="$HOME/.local/bin"; fi
mkdir -p "$target"
install -s -m 0755 "$binary" "$target/hearth.new"
mv -f "$target/hearth.new" "$target/hearth"
say "Installed $target/hearth"
case ":$PATH:" in
    *":$target:"*) ;;
    *) echo "    Note: $target is not on your PATH; add it, or run $target/hearth" ;;
esac

# 4. Optionally, a systemd service.
if $service; then
    command -v systemctl >/dev/null || die "--service needs systemd (systemctl not found)."
    [ "$target" = /usr/local/bin ] || { $sudo install -s -m 0755 "$binary" /usr/local/bin/hearth; }
    if ! id hearth >/dev/null 2>&1; then
        say "Creating system user hearth"
        $sudo useradd --system --home-dir /var/lib/hearth --shell /usr/sbin/nologin hearth
    fi
    $sudo install -d -m 0700 -o hearth -g hearth /var/lib/hearth
    say "Writing /etc/systemd/system/hearth.service"
    $sudo tee /etc/systemd/system/hearth.service >/dev/null <<'UNIT'
[Unit]
Description=Hearth messaging server
After=network-online.target
Wants=network-online.target

[Service]
User=hearth
Group=hearth
Environment=HEARTH_DATA=/var/lib/hearth
ExecStart=/usr/local/bin/hearth serve
Restart=on-failure
UMask=0077
# Lets the password-hashing threads leave SCHED_IDLE when starved (see docs/ADMIN.md, Sign-in).
LimitNICE=+0
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ReadWritePaths=/var/lib/hearth

[Install]
WantedBy=multi-user.target
UNIT
    $sudo systemctl daemon-reload
    $sudo systemctl enable --now hearth
    $sudo systemctl restart hearth
    say "Hearth runs as a service. The first-admin setup link is in its log:"
    echo "    sudo journalctl -u hearth --no-pager | grep -A1 'No admin'"
    echo "    Admin commands: sudo -u hearth hearth user list --data /var/lib/hearth"
else
    say "Done. Start the server with:  hearth serve"
fi
