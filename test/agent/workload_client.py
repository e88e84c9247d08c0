#!/usr/bin/python3
"""A SPIFFE Workload API client Signet did not write: Debian's python3-grpcio, with message classes
that Debian's protoc generated from proto/workload.proto (the standard's fields). The test runs it
as different users; it prints one JSON object with what it got, and checks what it can itself:

  x509      FetchX509SVID (first message): every SVID's chain is verified with python3-cryptography
            against the bundle it came with (signature, validity, the URI SAN is the SPIFFE ID)
  jwt AUD   FetchJWTSVID, then FetchJWTBundles: the token is verified with PyJWT against the JWKS
  validate AUD TOKEN   ValidateJWTSVID
  noheader  FetchX509SVID without the workload.spiffe.io header
  bundles   FetchX509Bundles (first message)
  watch N   FetchX509SVID, the first N messages (serials and the SPIFFE IDs)
  health    grpc.health.v1 Check

Usage: workload_client.py GENERATED_DIR SOCKET COMMAND [ARGS]
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import workload_pb2  # noqa: E402

SOCKET = sys.argv[2]
COMMAND = sys.argv[3]
ARGS = sys.argv[4:]
HEADER = (("workload.spiffe.io", "true"),)


def method(channel, name, request_class, response_class, stream):
    path = "/SpiffeWorkloadAPI/" + name
    make = channel.unary_stream if stream else channel.unary_unary
    return make(path, request_serializer=request_class.SerializeToString, response_deserializer=response_class.FromString)


def certificates(der):
    """Splits concatenated DER certificates."""
    from cryptography import x509
    out = []
    while der:
        # SEQUENCE with a long-form length (certificates are over 127 bytes)
        assert der[0] == 0x30
        n = der[1] & 0x7F
        length = int.from_bytes(der[2:2 + n], "big") if der[1] & 0x80 else der[1]
        size = 2 + (n if der[1] & 0x80 else 0) + length
        out.append(x509.load_der_x509_certificate(der[:size]))
        der = der[size:]
    return out


def verify_chain(chain, roots):
    """Each certificate is valid now and signed by the next one; the last by a root of the bundle."""
    import datetime
    from cryptography.hazmat.primitives.asymmetric import ec
    now = datetime.datetime.utcnow()
    for i, cert in enumerate(chain):
        # Debian 12's cryptography (38) has the naive UTC attributes only.
        assert cert.not_valid_before <= now <= cert.not_valid_after, "not valid now"
        issuers = chain[i + 1:i + 2] or [r for r in roots if r.subject == cert.issuer]
        assert issuers, "no issuer in the bundle"
        issuers[0].public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))


def spiffe_uri(cert):
    from cryptography import x509
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return sans.get_values_for_type(x509.UniformResourceIdentifier)


def main():
    channel = grpc.insecure_channel("unix://" + SOCKET)
    out = {}
    try:
        if COMMAND in ("x509", "noheader", "watch"):
            call = method(channel, "FetchX509SVID", workload_pb2.X509SVIDRequest, workload_pb2.X509SVIDResponse, True)
            stream = call(workload_pb2.X509SVIDRequest(), metadata=() if COMMAND == "noheader" else HEADER, timeout=30)
            if COMMAND == "watch":
                seen = []
                for message in stream:
                    leaf = certificates(message.svids[0].x509_svid)[0]
                    seen.append({"spiffeIds": [s.spiffe_id for s in message.svids], "serial": format(leaf.serial_number, "x")})
                    print(json.dumps({"update": seen[-1]}), flush=True)
                    if len(seen) >= int(ARGS[0]):
                        break
                out["updates"] = seen
            else:
                message = next(stream)
                svids = []
                for s in message.svids:
                    chain = certificates(s.x509_svid)
                    roots = certificates(s.bundle)
                    verify_chain(chain, roots)
                    from cryptography.hazmat.primitives.serialization import load_der_private_key
                    key = load_der_private_key(s.x509_svid_key, password=None)
                    assert key.public_key().public_numbers() == chain[0].public_key().public_numbers(), "key does not match the SVID"
                    assert spiffe_uri(chain[0]) == [s.spiffe_id], "URI SAN is not the SPIFFE ID"
                    svids.append({"spiffeId": s.spiffe_id, "hint": s.hint, "chainLength": len(chain), "verified": True})
                out["svids"] = svids
                out["federatedBundles"] = sorted(message.federated_bundles.keys())
        elif COMMAND == "bundles":
            call = method(channel, "FetchX509Bundles", workload_pb2.X509BundlesRequest, workload_pb2.X509BundlesResponse, True)
            message = next(call(workload_pb2.X509BundlesRequest(), metadata=HEADER, timeout=30))
            out["bundles"] = {k: len(certificates(v)) for k, v in message.bundles.items()}
        elif COMMAND == "jwt":
            call = method(channel, "FetchJWTSVID", workload_pb2.JWTSVIDRequest, workload_pb2.JWTSVIDResponse, False)
            response = call(workload_pb2.JWTSVIDRequest(audience=ARGS), metadata=HEADER, timeout=30)
            bundles_call = method(channel, "FetchJWTBundles", workload_pb2.JWTBundlesRequest, workload_pb2.JWTBundlesResponse, True)
            bundles = next(bundles_call(workload_pb2.JWTBundlesRequest(), metadata=HEADER, timeout=30)).bundles
            import jwt as pyjwt
            svids = []
            for s in response.svids:
                td = "spiffe://" + s.spiffe_id.split("/")[2]
                jwks = pyjwt.PyJWKSet.from_json(bundles[td].decode())
                kid = pyjwt.get_unverified_header(s.svid)["kid"]
                key = [k for k in jwks.keys if k.key_id == kid][0]
                claims = pyjwt.decode(s.svid, key.key, algorithms=["ES256", "ES384", "RS256", "PS256"], audience=ARGS[0])
                assert claims["sub"] == s.spiffe_id
                svids.append({"spiffeId": s.spiffe_id, "token": s.svid, "verified": True})
            out["svids"] = svids
        elif COMMAND == "validate":
            call = method(channel, "ValidateJWTSVID", workload_pb2.ValidateJWTSVIDRequest, workload_pb2.ValidateJWTSVIDResponse, False)
            response = call(workload_pb2.ValidateJWTSVIDRequest(audience=ARGS[0], svid=ARGS[1]), metadata=HEADER, timeout=30)
            from google.protobuf.json_format import MessageToDict
            out["spiffeId"] = response.spiffe_id
            out["claims"] = MessageToDict(response.claims)
        elif COMMAND == "health":
            request = b"" if not ARGS else b"\x0a" + bytes([len(ARGS[0])]) + ARGS[0].encode()
            call = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b, response_deserializer=lambda b: b)
            raw = call(request, timeout=30)
            out["status"] = {b"": "UNKNOWN", b"\x08\x01": "SERVING", b"\x08\x02": "NOT_SERVING"}.get(raw, raw.hex())
        else:
            raise SystemExit("unknown command " + COMMAND)
    except grpc.RpcError as e:
        out["error"] = {"code": e.code().name, "details": e.details()}
    print(json.dumps(out), flush=True)


main()
