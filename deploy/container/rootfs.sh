#!/bin/sh
# Assembles the root filesystem of the scratch image: rootfs.sh BINARY LIBROOT OUT
#   BINARY   the Native-AOT gollamas binary (any architecture)
#   LIBROOT  a root filesystem of the binary's architecture to take glibc, OpenSSL and the CA
#            bundle from ("/" for this machine's, or a copy of a target-arch image)
#   OUT      directory to fill; Dockerfile.aot copies it to / of the image
# The library list comes from the binary's ELF headers (readelf -d, NEEDED, and its PT_INTERP)
# rather than from ldd: ldd runs the loader, which cannot run an arm64 binary on an amd64 builder.
set -eu
bin=$1 root=$2 out=$3

interp=$(readelf -lW "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
case "$interp" in
  /lib64/ld-linux-x86-64.so.2) triplet=x86_64-linux-gnu ;;
  /lib/ld-linux-aarch64.so.1)  triplet=aarch64-linux-gnu ;;
  *) echo "rootfs.sh: unexpected program interpreter '$interp'" >&2; exit 1 ;;
esac

# Shared libraries by file name, from the triplet directory (merged /usr or not).
find_lib() {
  for d in "$root/usr/lib/$triplet" "$root/lib/$triplet"; do
    [ -e "$d/$1" ] && { echo "$d/$1"; return; }
  done
  echo "rootfs.sh: $1 not found for $triplet under $root" >&2; exit 1
}

mkdir -p "$out/lib/$triplet" "$(dirname "$out$interp")" "$out/etc/ssl/certs"
needed=$(readelf -dW "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "rootfs.sh: $bin needs: $needed" >&2
# libssl/libcrypto are not NEEDED: .NET loads them with dlopen when HTTPS is first used
# (https backends, --tls-cert). Without them only plain HTTP works.
for lib in $needed libssl.so.3 libcrypto.so.3; do
  [ "$lib" = "$(basename "$interp")" ] && continue   # the loader goes to its own path below
  cp -L "$(find_lib "$lib")" "$out/lib/$triplet/$lib"
done
# The loader at the exact path the binary names; the libraries in /lib/TRIPLET, which is in
# glibc's built-in search path, so no ld.so.cache is needed.
cp -L "$(find_lib "$(basename "$interp")")" "$out$interp"

cp -L "$root/etc/ssl/certs/ca-certificates.crt" "$out/etc/ssl/certs/"
install -m 0755 "$bin" "$out/gollamas"
# A named non-root user (65532, as distroless "nonroot"); glibc 2.34+ has the files and dns
# NSS modules built in, so host names resolve with no libnss_* files.
echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > "$out/etc/passwd"
echo 'nonroot:x:65532:' > "$out/etc/group"
echo 'hosts: files dns' > "$out/etc/nsswitch.conf"
# Request bodies over 1 MiB go to unlinked files here (GOLLAMAS_BODY_TEMP_DIR in the image);
# sticky and world-writable as any /tmp, each file created 0600. With a read-only root
# filesystem, mount a volume here (the Kubernetes manifest mounts an emptyDir).
install -d -m 1777 "$out/tmp"
