#!/usr/bin/env bash
# shellcheck disable=SC2016 # Go templates and the inner bash -c script stay unexpanded on purpose.
# docker-check.sh — build the repository's Dockerfile and check the image,
# on a machine with no Docker engine and no access to container registries.
#
# It uses buildah (installed with apt-get if missing; needs root) with the vfs
# driver and chroot isolation, in a storage of its own (CHECK_ROOT), and
# builds two LOCAL stand-ins for the base images the Dockerfile names:
#   builder: scratch + this machine's Go toolchain + its module cache + a
#            shell and the few tools the RUN lines use; GOPROXY=off, so the
#            build is offline (like golang:1.26-bookworm: GOPATH=/go,
#            GOTOOLCHAIN=local);
#   runtime: scratch + /etc/passwd, /etc/group (nonroot = 65532), /tmp and CA
#            certificates, like gcr.io/distroless/static-debian12:nonroot but
#            with no USER and no libc, so the check proves the Dockerfile sets
#            the user itself and that the binary is static.
# Then it runs `buildah bud` on the real Dockerfile with
# --build-arg BUILDER_IMAGE/RUNTIME_IMAGE pointing at them, and checks the
# image: user 65532, ports, volume, env, entrypoint and cmd, file ownership,
# that the binary is static and prints the version given as VERSION, and that
# the server starts with the image's own ENTRYPOINT, CMD and ENV (in a private
# network namespace, as uid 65532), answers GET /healthz with 200 and holds
# the ICE ports (UDP 7882, TCP 7881).
#
# Idempotent: every run rebuilds the stand-ins and the image from scratch.
# Prints timings, the image size and PASS, or FAIL and the reason; exits 0 on
# PASS only.
#
# Environment:
#   CHECK_ROOT     buildah storage for this check (default /var/tmp/switchyard-docker-check)
#   CHECK_CONTEXT  build context (default: the repository this script is in)
#   CHECK_GOFLAGS  GOFLAGS in the stand-in builder (default empty, like golang:*;
#                  e.g. -mod=mod to let the build tolerate an incomplete go.mod)
#   CHECK_KEEP     1 (default) keeps localhost/switchyard:check and the stand-ins
#                  for inspection; 0 deletes them at the end
set -Eeuo pipefail

start=$(date +%s)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
context=${CHECK_CONTEXT:-$repo}
root=${CHECK_ROOT:-/var/tmp/switchyard-docker-check}
keep=${CHECK_KEEP:-1}
version=0.0.0-docker-check
image=localhost/switchyard:check
builder_image=localhost/switchyard-check-builder:latest
runtime_image=localhost/switchyard-check-runtime:latest
step="starting"
containers=()
smoke_pid=""

log() { printf '==> %s\n' "$*"; }
fail() {
	printf 'FAIL: docker-check: %s\n' "$*" >&2
	exit 1
}
on_exit() {
	local rc=$?
	if [[ -n $smoke_pid ]]; then kill "$smoke_pid" 2>/dev/null || true; fi
	for c in "${containers[@]}"; do
		bh umount "$c" >/dev/null 2>&1 || true
		bh rm "$c" >/dev/null 2>&1 || true
	done
	if [[ $rc -ne 0 ]]; then
		printf 'FAIL: docker-check (step: %s, after %ss)\n' "$step" "$(($(date +%s) - start))" >&2
	fi
}
trap on_exit EXIT

bh() { buildah --root "$root/storage" --runroot "$root/run" --storage-driver vfs "$@"; }

# new_container IMAGE NAME: a working container named NAME, removed on exit;
# sets $c to its name and $mnt to where its root filesystem is mounted.
new_container() {
	bh rm "$2" >/dev/null 2>&1 || true
	bh from --pull=never --name "$2" "$1" >/dev/null
	containers+=("$2")
	c=$2
	mnt=$(bh mount "$c")
}

# copy_with_libs ROOTFS BINARY...: copy host binaries and the shared
# libraries they load into ROOTFS at the same paths.
copy_with_libs() {
	local rootfs=$1 bin lib
	shift
	for bin in "$@"; do
		bin=$(command -v "$bin") || fail "host has no $bin"
		cp --parents -L "$bin" "$rootfs"
		for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
			[[ -e $rootfs$lib ]] || cp --parents -L "$lib" "$rootfs"
		done
	done
}

# ------------------------------------------------------------------ setup
step="setup"
[[ $(id -u) -eq 0 ]] || fail "run as root (buildah with chroot isolation and vfs needs it)"
[[ -f $context/Dockerfile ]] || fail "no Dockerfile in $context"
[[ -f $context/cmd/switchyard/main.go ]] || fail "no $context/cmd/switchyard/main.go to build yet"
command -v go >/dev/null || fail "go is not installed (the builder stand-in copies the host toolchain)"
if ! command -v buildah >/dev/null; then
	log "installing buildah"
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -qq && apt-get install -y -qq buildah >/dev/null; }; then
		fail "apt-get install buildah failed"
	fi
fi
mkdir -p "$root"
chroot_bin=$(command -v chroot) || fail "host has no chroot"
goroot=$(go env GOROOT)
gomodcache=$(go env GOMODCACHE)
log "buildah $(buildah --version | awk '{print $3}'), $(go version | awk '{print $3}'), storage $root"
# Leftovers from an interrupted run.
bh rm --all >/dev/null 2>&1 || true

# ------------------------------------------------------- builder stand-in
step="builder stand-in"
t0=$(date +%s)
log "building $builder_image (host Go toolchain, module cache, shell; offline)"
new_container scratch switchyard-check-builder-work
mkdir -p "$mnt/usr/local" "$mnt/go/pkg" "$mnt/tmp" "$mnt/root" "$mnt/etc" "$mnt/src" "$mnt/usr/bin" "$mnt/usr/lib" "$mnt/usr/lib64"
chmod 1777 "$mnt/tmp"
ln -s usr/bin "$mnt/bin"
ln -s usr/lib "$mnt/lib"
ln -s usr/lib64 "$mnt/lib64"
cp -a "$goroot" "$mnt/usr/local/go"
if [[ -d $gomodcache ]]; then cp -a "$gomodcache" "$mnt/go/pkg/mod"; fi
copy_with_libs "$mnt" sh bash mkdir chown chmod ls cat cp mv rm ln env id
if [[ -d /etc/ssl/certs ]]; then cp -aL --parents /etc/ssl/certs "$mnt" 2>/dev/null || true; fi
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$mnt/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$mnt/etc/group"
bh umount "$c" >/dev/null
bh config \
	--env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--env GOPATH=/go --env GOTOOLCHAIN=local --env GOPROXY=off --env GOSUMDB=off \
	--env GOFLAGS="${CHECK_GOFLAGS:-}" --env HOME=/root \
	--workingdir /go "$c"
bh rmi -f "$builder_image" >/dev/null 2>&1 || true
bh commit --quiet --format docker "$c" "$builder_image" >/dev/null
t_builder=$(($(date +%s) - t0))

# ------------------------------------------------------- runtime stand-in
step="runtime stand-in"
t0=$(date +%s)
log "building $runtime_image (scratch + passwd/group/tmp/certs, like distroless static:nonroot)"
new_container scratch switchyard-check-runtime-work
mkdir -p "$mnt/etc" "$mnt/tmp" "$mnt/home/nonroot"
chmod 1777 "$mnt/tmp"
chown 65532:65532 "$mnt/home/nonroot"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$mnt/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$mnt/etc/group"
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
	mkdir -p "$mnt/etc/ssl/certs"
	cp -L /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
fi
bh umount "$c" >/dev/null
# No USER here (distroless :nonroot has one): the Dockerfile must set it itself.
bh config --workingdir /home/nonroot --env PATH=/usr/local/bin:/usr/bin:/bin "$c"
bh rmi -f "$runtime_image" >/dev/null 2>&1 || true
bh commit --quiet --format docker "$c" "$runtime_image" >/dev/null
t_runtime=$(($(date +%s) - t0))

# ------------------------------------------------------------------ build
step="buildah bud"
t0=$(date +%s)
log "buildah bud $context → $image"
bh rmi -f "$image" >/dev/null 2>&1 || true
buildlog="$root/build.log"
if ! bh bud --isolation chroot --pull=never --format docker \
	--build-arg BUILDER_IMAGE="$builder_image" \
	--build-arg RUNTIME_IMAGE="$runtime_image" \
	--build-arg VERSION="$version" \
	-t "$image" -f "$context/Dockerfile" "$context" >"$buildlog" 2>&1; then
	tail -n 40 "$buildlog" >&2
	fail "buildah bud failed (full log: $buildlog)"
fi
t_build=$(($(date +%s) - t0))

# ----------------------------------------------------------- image config
step="image config"
log "checking the image configuration"
problems=()
cfg() { bh inspect --type image --format "$1" "$image"; }
user=$(cfg '{{.Docker.Config.User}}')
[[ $user == 65532 || $user == 65532:* ]] || problems+=("user is '$user', want 65532")
ports=$(cfg '{{range $p, $_ := .Docker.Config.ExposedPorts}}{{$p}} {{end}}')
[[ " $ports " == *" 7880/tcp "* ]] || problems+=("7880/tcp not exposed (exposed: $ports)")
for p in 7881/tcp 7882/udp 3478/tcp 3478/udp; do
	[[ " $ports " == *" $p "* ]] || problems+=("$p not exposed (exposed: $ports)")
done
volumes=$(cfg '{{range $v, $_ := .Docker.Config.Volumes}}{{$v}} {{end}}')
[[ " $volumes " == *" /var/lib/switchyard "* ]] || problems+=("no VOLUME /var/lib/switchyard (volumes: $volumes)")
# (buildah 1.28's --format has no json function: one item per line, joined with |.)
entrypoint=$(cfg '{{range .Docker.Config.Entrypoint}}{{println .}}{{end}}' | sed '/^$/d' | paste -sd '|')
[[ $entrypoint == '/usr/local/bin/switchyard' ]] || problems+=("entrypoint is '$entrypoint'")
cmd=$(cfg '{{range .Docker.Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d' | paste -sd '|')
[[ $cmd == '--config|/etc/switchyard/switchyard.yaml' ]] || problems+=("cmd is '$cmd'")
mapfile -t image_env < <(cfg '{{range .Docker.Config.Env}}{{println .}}{{end}}' | sed '/^$/d')
for want in SWITCHYARD_SESSION_LOG_PATH=/var/lib/switchyard/sessions.jsonl; do
	printf '%s\n' "${image_env[@]}" | grep -qxF "$want" || problems+=("env lacks $want")
done
mapfile -t entry_args < <(cfg '{{range .Docker.Config.Entrypoint}}{{println .}}{{end}}{{range .Docker.Config.Cmd}}{{println .}}{{end}}' | sed '/^$/d')

# -------------------------------------------------------------- filesystem
step="image files"
log "checking the image files"
new_container "$image" switchyard-check-image
bin="$mnt/usr/local/bin/switchyard"
[[ -x $bin ]] || problems+=("/usr/local/bin/switchyard missing or not executable")
cmp -s "$mnt/etc/switchyard/switchyard.yaml" "$context/configs/switchyard.yaml" ||
	problems+=("/etc/switchyard/switchyard.yaml differs from configs/switchyard.yaml")
state="$mnt/var/lib/switchyard"
if [[ -d $state ]]; then
	owner=$(stat -c %u:%g "$state")
	[[ $owner == 65532:65532 ]] || problems+=("/var/lib/switchyard is owned by $owner, want 65532:65532")
	[[ $(stat -c %A "$state") == d?w* ]] || problems+=("/var/lib/switchyard is not writable by its owner")
else
	problems+=("no /var/lib/switchyard directory")
fi
if [[ -e $mnt/src || -e $mnt/usr/local/go ]]; then problems+=("build files leaked into the runtime image"); fi

# --------------------------------------------------------------- run it
step="run --version"
if [[ -x $bin ]]; then
	# The runtime stand-in has no libc, so this also proves the binary is static.
	log "running /usr/local/bin/switchyard --version in the image as 65532"
	if out=$(env -i "${image_env[@]}" "$chroot_bin" --userspec=65532:65532 "$mnt" /usr/local/bin/switchyard --version 2>&1); then
		printf '    %s\n' "$out"
		[[ $out == *"$version"* ]] || problems+=("--version printed '$out', want it to contain $version (-X main.version)")
	else
		problems+=("switchyard --version failed: $out")
	fi

	step="smoke run"
	log "starting the image's ENTRYPOINT+CMD with its ENV, as 65532, in a private network namespace; GET /healthz"
	smoke_log="$root/smoke.log"
	# Inside the new network namespace nothing but loopback exists, so the
	# server's :7880 and UDP ports are unreachable from anywhere else.
	if unshare --net --fork bash -c '
		ip link set lo up || exit 90
		chroot_bin=$1 mnt=$2 n=$3; shift 3
		envs=("${@:1:$n}"); shift "$n"
		env -i "${envs[@]}" "$chroot_bin" --userspec=65532:65532 "$mnt" "$@" &
		pid=$!
		for _ in $(seq 1 100); do
			if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; echo "exited early with status $?"; exit 91; fi
			if { exec 3<>/dev/tcp/127.0.0.1/7880; } 2>/dev/null; then
				printf "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
				response=$(timeout 5 cat <&3 | tr -d "\r")
				exec 3<&-
				status=$(head -n 1 <<<"$response")
				echo "GET /healthz: $status $(tail -n 1 <<<"$response")"
				if [[ $status != "HTTP/1."?" 200 "* ]]; then kill -KILL "$pid"; echo "/healthz did not answer 200"; exit 94; fi
				# One UDP socket per local address on 7882 (0x1ECA), one TCP listener on 7881 (0x1EC9).
				if ! grep -qi ":1ECA " /proc/net/udp /proc/net/udp6 2>/dev/null; then kill -KILL "$pid"; echo "nothing bound to UDP 7882"; exit 95; fi
				if ! grep -qiE ":1EC9 [0-9A-F:]+ 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; then kill -KILL "$pid"; echo "nothing listening on TCP 7881"; exit 96; fi
				echo "ICE ports held: UDP 7882, TCP 7881"
				kill -TERM "$pid"
				for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
				if kill -0 "$pid" 2>/dev/null; then echo "did not stop within 5s of SIGTERM"; kill -KILL "$pid"; exit 93; fi
				wait "$pid"; echo "listening on :7880; stopped on SIGTERM with status $?"
				exit 0
			fi
			sleep 0.1
		done
		kill -KILL "$pid"; echo "not listening on :7880 after 10s"; exit 92
	' smoke "$chroot_bin" "$mnt" "${#image_env[@]}" "${image_env[@]}" "${entry_args[@]}" >"$smoke_log" 2>&1; then
		sed 's/^/    /' "$smoke_log"
	else
		tail -n 20 "$smoke_log" | sed 's/^/    /' >&2
		problems+=("the server did not start from the image's ENTRYPOINT/CMD/ENV (log: $smoke_log)")
	fi
	rm -f "$state/sessions.jsonl"
fi
bin_size=$(stat -c %s "$bin" 2>/dev/null || echo 0)

# ----------------------------------------------------------------- report
step="report"
size=$(bh images --format '{{.Size}}' "$image" | head -n 1)
total=$(($(date +%s) - start))
echo "----"
echo "image:           $image ($size; binary $((bin_size / 1024)) KiB)"
echo "user:            $user"
echo "exposed:         $ports"
echo "volumes:         $volumes"
echo "entrypoint|cmd:  $entrypoint|$cmd"
echo "time:            ${total}s total (builder stand-in ${t_builder}s, runtime stand-in ${t_runtime}s, buildah bud ${t_build}s)"
if [[ $keep == 0 ]]; then
	bh rmi -f "$image" "$builder_image" "$runtime_image" >/dev/null 2>&1 || true
fi
if ((${#problems[@]} > 0)); then
	printf '  - %s\n' "${problems[@]}" >&2
	fail "${#problems[@]} problem(s) with the image"
fi
echo "PASS: docker-check"
