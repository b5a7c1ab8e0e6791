#!/usr/bin/env bash
# Makes a test/demo PKI with openssl in OUTDIR (idempotent: does nothing if
# OUTDIR/.done exists). Every certificate is X.509 v3 with basicConstraints
# and keyUsage (wolfSSL refuses v1 certificates).
#   root CA -> intermediate CA -> server (localhost, ECDSA P-256; and RSA)
#                              -> clients dev-good, dev-good2, dev-expired,
#                                 dev-notyet, dev-revoked (in the CRL)
#   foreign root -> dev-foreign
# Files: ca.crt (intermediate + root: the client CA bundle, also what a
# client needs to verify the server), root.crt, server.crt (leaf + chain),
# server.key, server-rsa.crt/.key, server-noaia.crt/.key (no AIA), crl.pem (root CRL + intermediate CRL),
# <client>.crt/.key and <client>-chain.crt (leaf + intermediate).
set -euo pipefail
out=${1:?usage: pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"
[ -f .done ] && exit 0

cat > openssl.cnf <<'CNF'
[ca]
default_ca = ca_default
[ca_default]
dir = .
database = $dir/$ENV::CA_NAME.index
new_certs_dir = $dir/newcerts
serial = $dir/$ENV::CA_NAME.serial
crlnumber = $dir/$ENV::CA_NAME.crlnum
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_inter]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$ENV::OCSP_ROOT_PORT/
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$ENV::OCSP_PORT/
[v3_server_noaia]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid:always
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:$ENV::CLIENT_ID.example, URI:urn:dev:$ENV::CLIENT_ID
authorityKeyIdentifier = keyid:always
[v3_client_ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:$ENV::CLIENT_ID.example, URI:urn:dev:$ENV::CLIENT_ID
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:http://127.0.0.1:$ENV::OCSP_PORT/
[v3_ocsp_signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
authorityKeyIdentifier = keyid:always
CNF
mkdir -p newcerts
export CLIENT_ID=none CA_NAME=root OCSP_PORT=${OCSP_PORT:-8888}
export OCSP_ROOT_PORT=${OCSP_ROOT_PORT:-8889}

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
init_ca() { : > "$1.index"; echo 1000 > "$1.serial"; echo 1000 > "$1.crlnum"; }

# sign CA_NAME CAFILE CAKEY CSR OUT EXT [startdate enddate]
sign() {
  local ca=$1 cacrt=$2 cakey=$3 csr=$4 crt=$5 ext=$6 start=${7:-} end=${8:-}
  local dates=()
  [ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
  CA_NAME=$ca openssl ca -batch -config openssl.cnf -cert "$cacrt" -keyfile "$cakey" \
    -in "$csr" -out "$crt" -extensions "$ext" -notext "${dates[@]}" 2>/dev/null
}

mkroot() { # name cn
  init_ca "$1"
  ec_key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -config openssl.cnf -extensions v3_ca -out "$1.crt" 2>/dev/null
}

mkroot root "moat test root CA"
mkroot foreign "foreign root CA"

init_ca inter
ec_key inter.key
openssl req -new -key inter.key -subj "/CN=moat test intermediate CA" -out inter.csr 2>/dev/null
sign root root.crt root.key inter.csr inter.crt v3_inter

ec_key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
sign inter inter.crt inter.key server.csr server.leaf.crt v3_server
cat server.leaf.crt inter.crt > server.crt

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-rsa.key 2>/dev/null
openssl req -new -key server-rsa.key -subj "/CN=localhost" -out server-rsa.csr 2>/dev/null
sign inter inter.crt inter.key server-rsa.csr server-rsa.leaf.crt v3_server
cat server-rsa.leaf.crt inter.crt > server-rsa.crt

# a server certificate without authorityInfoAccess (a private PKI's): its
# OCSP response can only be stapled from a file
ec_key server-noaia.key
openssl req -new -key server-noaia.key -subj "/CN=localhost" -out server-noaia.csr 2>/dev/null
sign inter inter.crt inter.key server-noaia.csr server-noaia.leaf.crt v3_server_noaia
cat server-noaia.leaf.crt inter.crt > server-noaia.crt

past_start=$(date -u -d '-30 days' +%y%m%d%H%M%SZ)
past_end=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
fut_start=$(date -u -d '+10 days' +%y%m%d%H%M%SZ)
fut_end=$(date -u -d '+40 days' +%y%m%d%H%M%SZ)

client() { # id ca cacrt cakey [start end]
  local id=$1
  ec_key "$id.key"
  openssl req -new -key "$id.key" -subj "/O=moat tests/CN=$id" -out "$id.csr" 2>/dev/null
  CLIENT_ID=$id sign "$2" "$3" "$4" "$id.csr" "$id.crt" "${EXT:-v3_client}" "${5:-}" "${6:-}"
}
client dev-good inter inter.crt inter.key
client dev-good2 inter inter.crt inter.key
client dev-revoked inter inter.crt inter.key
client dev-expired inter inter.crt inter.key "$past_start" "$past_end"
client dev-notyet inter inter.crt inter.key "$fut_start" "$fut_end"
client dev-foreign foreign foreign.crt foreign.key
# OCSP: clients whose AIA names a responder on 127.0.0.1:$OCSP_PORT, and a
# delegated responder certificate (id-kp-OCSPSigning) from the intermediate.
for id in ocsp-good ocsp-good2 ocsp-revoked ocsp-unknown; do
  EXT=v3_client_ocsp client "$id" inter inter.crt inter.key
done
ec_key ocsp-responder.key
openssl req -new -key ocsp-responder.key -subj "/CN=moat test OCSP responder" \
  -out ocsp-responder.csr 2>/dev/null
sign inter inter.crt inter.key ocsp-responder.csr ocsp-responder.crt v3_ocsp_signer
for id in dev-good dev-good2 dev-revoked dev-expired dev-notyet ocsp-good ocsp-good2; do
  cat "$id.crt" inter.crt > "$id-chain.crt"
done

CA_NAME=inter openssl ca -config openssl.cnf -cert inter.crt -keyfile inter.key \
  -revoke dev-revoked.crt 2>/dev/null
CA_NAME=inter openssl ca -config openssl.cnf -cert inter.crt -keyfile inter.key \
  -revoke ocsp-revoked.crt 2>/dev/null
# the responder's database: the intermediate's, without ocsp-unknown
unknown_serial=$(openssl x509 -in ocsp-unknown.crt -noout -serial | cut -d= -f2)
grep -v "	$unknown_serial	" inter.index > ocsp.index
cp inter.index.attr ocsp.index.attr
CA_NAME=inter openssl ca -config openssl.cnf -cert inter.crt -keyfile inter.key \
  -gencrl -out inter.crl 2>/dev/null
CA_NAME=root openssl ca -config openssl.cnf -cert root.crt -keyfile root.key \
  -gencrl -out root.crl 2>/dev/null
cat root.crl inter.crl > crl.pem
cat inter.crt root.crt > ca.crt
rm -f ./*.csr
touch .done
