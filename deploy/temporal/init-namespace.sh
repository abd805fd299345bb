#!/bin/sh
# Creates the namespace (the plain server image, unlike the deprecated auto-setup, does not) and
# registers the custom search attributes of DESIGN §5, then waits until the frontend lists them,
# so that the worker and the API, which start after this job, never upsert an unknown attribute.
# Idempotent: an existing namespace is kept, re-creating an attribute with the same type succeeds.
set -eu
ADDR="${TEMPORAL_ADDRESS:-temporal:7233}"
NS="${TEMPORAL_NAMESPACE:-default}"
: "${SEARCH_ATTRIBUTES:?space-separated NAME=Type pairs}"

retry() {  # the frontend answers before every service behind it is ready
  n=0
  until "$@"; do
    n=$((n + 1))
    [ "$n" -ge 30 ] && { echo "gave up: $*" >&2; return 1; }
    sleep 2
  done
}

retry temporal operator cluster health --address "$ADDR"
temporal operator namespace describe --address "$ADDR" --namespace "$NS" >/dev/null 2>&1 \
  || retry temporal operator namespace create --address "$ADDR" --namespace "$NS" \
       --retention "${NAMESPACE_RETENTION:-30d}"

for pair in $SEARCH_ATTRIBUTES; do
  retry temporal operator search-attribute create --address "$ADDR" --namespace "$NS" \
    --name "${pair%%=*}" --type "${pair#*=}"
done

listed() {
  out=$(temporal operator search-attribute list --address "$ADDR" --namespace "$NS")
  for pair in $SEARCH_ATTRIBUTES; do
    echo "$out" | grep -q "${pair%%=*}" || return 1
  done
}
retry listed
echo "namespace $NS ready with search attributes: $SEARCH_ATTRIBUTES"
