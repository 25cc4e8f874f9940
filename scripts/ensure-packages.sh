# Sourced by scripts: installs Debian packages for commands that are missing, so a fresh machine works.
# Usage: ensure_packages COMMAND=PACKAGE ...   (COMMAND may be a path, e.g. /usr/sbin/nginx=nginx-light)
ensure_packages() {
  local missing=() pair command package
  for pair in "$@"; do
    command=${pair%%=*}
    package=${pair#*=}
    if [ -x "$command" ] || command -v "$command" >/dev/null 2>&1; then continue; fi
    missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  install_packages "${missing[@]}"
}

# Installs Debian packages, with sudo when not root (cimg images run as `circleci` with passwordless sudo).
install_packages() {
  echo "installing $*" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
