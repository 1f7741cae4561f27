#!/usr/bin/env bash
# Builds the release: a native (Native AOT) halfway for linux-x64 that needs only libc and libm, and
# packs it as halfway-VERSION-linux-x64.tar.gz and halfway_VERSION_amd64.deb (dpkg-deb).
# Usage: packaging/release.sh [VERSION (default: packaging/VERSION)] [OUT-DIR (default: release/)]
# Needs: the .NET 10 SDK, clang (the native linker step; Debian: apt-get install clang zlib1g-dev), dpkg-deb.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="${1:-$(cat "$here/VERSION")}"
out="$(mkdir -p "${2:-$root/release}" && cd "${2:-$root/release}" && pwd)"
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "release: bad version '$version': give MAJOR.MINOR.PATCH, e.g. 0.2.0" >&2; exit 2 ;;
esac
[ "$(uname -m)" = x86_64 ] || { echo "release: builds linux-x64 only, and this machine is $(uname -m)" >&2; exit 2; }
cc=""
for candidate in clang clang-20 clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
  if command -v "$candidate" >/dev/null 2>&1; then cc=$candidate; break; fi
done
if [ -z "$cc" ]; then
  # Never fall back to a build that needs the .NET runtime: the point of the release is one binary.
  echo "release: the native build needs clang: install it (Debian: apt-get install clang zlib1g-dev), then run this again" >&2
  exit 2
fi
command -v dpkg-deb >/dev/null 2>&1 || { echo "release: dpkg-deb is needed for the .deb: apt-get install dpkg" >&2; exit 2; }
commit="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
echo "release: building halfway $version ($commit), native for linux-x64 with $cc..." >&2
if ! log=$(dotnet publish "$root/src/Halfway.Cli/Halfway.Cli.csproj" -c Release -r linux-x64 -p:PublishAot=true \
    -p:CppCompilerAndLinker="$cc" -p:Version="$version" -p:SourceRevisionId="$commit" -p:StripSymbols=true \
    -o "$work/publish" -nologo -v q 2>&1); then
  echo "$log" >&2
  echo "release: the native build failed (above)" >&2
  exit 1
fi
binary="$work/publish/Halfway.Cli"
# A native binary: no managed entry assembly beside it, and it names only libc-level libraries.
[ -x "$binary" ] && [ ! -e "$work/publish/Halfway.Cli.dll" ] || { echo "release: the publish did not produce a native binary" >&2; exit 1; }
echo "release: native build took $((SECONDS - started)) s" >&2

# The tarball: bin/halfway plus the service, rules, dashboard and docs.
name="halfway-$version-linux-x64"
stage="$work/$name"
mkdir -p "$stage/bin" "$stage/share"
install -m 0755 "$binary" "$stage/bin/halfway"
install -m 0644 "$here/halfway-watch.service" "$here/halfway-rules.yml" "$here/halfway-rules.test.yml" "$here/halfway-dashboard.json" "$stage/share/"
install -m 0644 "$root/README.md" "$root/docs/watch.md" "$stage/"
tar -C "$work" -czf "$out/$name.tar.gz" "$name"

# The Debian package.
deb="$work/deb"
mkdir -p "$deb/DEBIAN" "$deb/usr/bin" "$deb/usr/share/halfway" "$deb/usr/share/doc/halfway" "$deb/lib/systemd/system"
install -m 0755 "$binary" "$deb/usr/bin/halfway"
install -m 0644 "$here/halfway-rules.yml" "$here/halfway-rules.test.yml" "$here/halfway-dashboard.json" "$deb/usr/share/halfway/"
install -m 0644 "$here/halfway-watch.service" "$deb/usr/share/halfway/"
install -m 0644 "$here/halfway-watch.service" "$deb/lib/systemd/system/"
install -m 0644 "$root/README.md" "$root/docs/watch.md" "$deb/usr/share/doc/halfway/"
"$deb/usr/bin/halfway" --help > "$deb/usr/share/doc/halfway/halfway.help.txt" 2>&1 || true
cat > "$deb/DEBIAN/control" <<CONTROL
Package: halfway
Version: $version
Architecture: amd64
Maintainer: Halfway developers <halfway@localhost>
Depends: libc6 (>= 2.31)
Recommends: libbpf1
Section: net
Priority: optional
Installed-Size: $(du -sk "$deb" | cut -f1)
Description: reproduce, observe and explain half-established TCP connections
 halfway watch monitors listeners' accept queues, SYN-RECV requests and drops
 (with a Prometheus endpoint, alert rules and a Grafana dashboard under
 /usr/share/halfway); halfway explain reads captures; halfway run reproduces.
 With libbpf1, the server kernel's own drop reasons are read from tracepoints.
 Built from commit $commit.
CONTROL
dpkg-deb --root-owner-group --build "$deb" "$out/halfway_${version}_amd64.deb" >/dev/null
echo "$out/$name.tar.gz"
echo "$out/halfway_${version}_amd64.deb"
