"""SASL and STARTTLS on the wire (RFC 6120 §5 and §6, RFC 5802, RFC 9266, XEP-0440), with the raw
client in raw_stream.py: what is offered before and after TLS, a full login with every
mechanism and channel binding over STARTTLS and direct TLS, and every way to fail."""
import base64
import xml.etree.ElementTree as ET

import pytest

from conftest import PASSWORD, Server
from OpenSSL import SSL

from raw_stream import NS_BIND, NS_SASL, NS_TLS, RawStream, ScramClient, is_result, q

SCRAM = ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"]
PLUS = [m + "-PLUS" for m in SCRAM]
CB_TYPES = ["tls-exporter", "tls-server-end-point"]  # advertised on TLS 1.3 (XEP-0440)
# Accepted: tls-unique too, unadvertised on TLS 1.3 (see test_tls_unique_* below).
ACCEPTED_CB_TYPES = CB_TYPES + ["tls-unique"]
TRANSPORTS = ["starttls", "direct_tls"]


@pytest.fixture(scope="module")
def sasl_server(tmp_path_factory):
    """A server for this module. Many tests here fail authentication on purpose; the per-IP
    delay would slow every later test down, so it starts only after 1000 failures (the delay
    itself is tested with its own server below). Everything else is the default."""
    s = Server(tmp_path_factory.mktemp("starling-sasl"), sasl="failures_before_delay = 1000")
    for name in ("alice", "bob", "carol"):
        s.add_user(name)
    s.start()
    yield s
    s.stop()


def log_tail(server, lines=30):
    return "\n".join(server.log().splitlines()[-lines:])


def secure_stream(server, transport):
    """A connection with TLS (STARTTLS or direct) and its post-TLS features read."""
    if transport == "direct_tls":
        s = RawStream(server.tls_port, direct_tls=True)
        s.open()
    else:
        s = RawStream(server.port)
        s.open()
        s.starttls()
    return s


def bind_and_ping(s):
    features = s.restart()
    assert features.find(q(NS_BIND, "bind")) is not None, ET.tostring(features)
    jid = s.bind("sasl-test")
    assert jid == "alice@localhost/sasl-test"
    assert is_result(s.ping())


def assert_stream_still_usable(s, server):
    """A correct login on the same stream still succeeds: the earlier failures did not close it."""
    outcome = s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD)[:2]
    assert outcome == ("success", True), f"{outcome}\n{log_tail(server)}"


# -- before TLS ------------------------------------------------------------------------------

def test_before_tls_only_required_starttls_is_offered(sasl_server):
    s = RawStream(sasl_server.port)
    features = s.open()
    children = [c.tag for c in features]
    assert children == [q(NS_TLS, "starttls")], ET.tostring(features)
    assert features.find(f"{q(NS_TLS, 'starttls')}/{q(NS_TLS, 'required')}") is not None
    assert features.find(q(NS_SASL, "mechanisms")) is None
    s.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_auth_before_tls_fails_with_encryption_required(sasl_server, mechanism):
    s = RawStream(sasl_server.port)
    s.open()
    s.send_auth(mechanism, b"\0alice\0" + PASSWORD.encode() if mechanism == "PLAIN" else b"n,,n=alice,r=abcdef")
    assert s.sasl_reply() == ("failure", "encryption-required")
    s.close()


@pytest.mark.parametrize("when", ["before_tls", "after_tls"])
def test_stanza_before_auth_is_stream_error_not_authorized(sasl_server, when):
    s = RawStream(sasl_server.port)
    s.open()
    if when == "after_tls":
        s.starttls()
    s.send("<message to='bob@localhost' type='chat'><body>hi</body></message>")
    condition, closed_tag = s.expect_stream_error()
    assert condition == "not-authorized", log_tail(sasl_server)
    assert closed_tag and s.eof


# -- after TLS: what is offered --------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_after_tls_all_mechanisms_and_both_channel_bindings_are_offered(sasl_server, transport):
    s = secure_stream(sasl_server, transport)
    assert s.features.find(q(NS_TLS, "starttls")) is None
    assert sorted(s.mechanisms()) == sorted(PLUS + SCRAM + ["PLAIN"]), ET.tostring(s.features)
    assert sorted(s.channel_binding_types()) == sorted(CB_TYPES), ET.tostring(s.features)
    s.close()


# -- a full login with each mechanism ----------------------------------------------------------

LOGINS = [(m, None) for m in SCRAM] + [(m, cb) for m in PLUS for cb in ACCEPTED_CB_TYPES] + [("PLAIN", None)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("mechanism,cb_type", LOGINS, ids=[f"{m}-{cb}" if cb else m for m, cb in LOGINS])
def test_login_succeeds_verifies_server_signature_and_binds(sasl_server, transport, mechanism, cb_type):
    s = secure_stream(sasl_server, transport)
    assert mechanism in s.mechanisms()
    if mechanism == "PLAIN":
        kind, detail = s.auth_plain("alice", PASSWORD)
        assert kind == "success", f"{detail}\n{log_tail(sasl_server)}"
    else:
        kind, verified, _ = s.auth_scram(mechanism, "alice", PASSWORD, cb_type=cb_type)
        assert kind == "success", f"{verified}\n{log_tail(sasl_server)}"
        assert verified is True, "the v= in <success/> is not the expected server signature"
    bind_and_ping(s)
    s.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512-PLUS", "PLAIN"])
def test_auth_without_initial_response_gets_empty_challenge_and_continues(sasl_server, mechanism):
    s = secure_stream(sasl_server, "starttls")
    if mechanism == "PLAIN":
        s.send_auth("PLAIN", raw_text="")
        elem = s.element()
        assert elem.tag == q(NS_SASL, "challenge"), f"{ET.tostring(elem)}\n{log_tail(sasl_server)}"
        assert (elem.text or "").strip() == "="
        s.send_response(f"\0alice\0{PASSWORD}".encode())
        assert s.sasl_reply()[0] == "success"
    else:
        kind, verified, _ = s.auth_scram(mechanism, "alice", PASSWORD, cb_type="tls-exporter", empty_initial=True)
        assert (kind, verified) == ("success", True), log_tail(sasl_server)
    bind_and_ping(s)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_newline_after_the_last_sasl_element_then_an_xml_declaration_on_the_new_stream(sasl_server, mechanism):
    """go-xmpp (go-sendxmpp) writes '</auth>\\n' in one write and opens the restarted stream
    with '<?xml ...?>': the newline is the old stream's, not before the new declaration."""
    s = secure_stream(sasl_server, "starttls")
    if mechanism == "PLAIN":
        s.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>".encode()
               + base64.b64encode(f"\0alice\0{PASSWORD}".encode()) + b"</auth>\n")
    else:
        client = ScramClient("sha256", "alice", PASSWORD)
        s.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>".encode()
               + base64.b64encode(client.client_first()) + b"</auth>\n")
        kind, payload = s.sasl_reply()
        assert kind == "challenge", payload
        s.send(f"<response xmlns='{NS_SASL}'>".encode()
               + base64.b64encode(client.client_final(payload)) + b"</response>\n")
    kind, _ = s.sasl_reply()
    assert kind == "success", log_tail(sasl_server)
    s.events.clear()
    features = s.open(xml_decl=True)
    assert features.find(q(NS_BIND, "bind")) is not None, f"{ET.tostring(features)}\n{log_tail(sasl_server)}"
    assert s.bind("after-newline") == "alice@localhost/after-newline"
    s.close()


def test_empty_challenge_is_sent_as_equals_sign(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("SCRAM-SHA-256", raw_text="")
    elem = s.element()
    assert elem.tag == q(NS_SASL, "challenge")
    assert (elem.text or "").strip() == "=", ET.tostring(elem)
    s.close()


def test_authzid_equal_to_own_bare_jid_is_accepted(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    kind, verified, _ = s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD, authzid="alice@localhost")
    assert (kind, verified) == ("success", True), log_tail(sasl_server)
    bind_and_ping(s)


# -- channel binding failures ----------------------------------------------------------------

@pytest.mark.parametrize("cb_type", ACCEPTED_CB_TYPES)
@pytest.mark.parametrize("wrong", ["flipped_bit", "other_type_data", "server_finished"])
def test_plus_with_wrong_channel_binding_data_is_not_authorized(sasl_server, cb_type, wrong):
    s = secure_stream(sasl_server, "starttls")
    good = s.channel_binding(cb_type)
    if wrong == "flipped_bit":
        data = bytes([good[0] ^ 1]) + good[1:]
    elif wrong == "other_type_data":
        others = [t for t in ACCEPTED_CB_TYPES if t != cb_type]
        data = s.channel_binding(others[0])
    else:  # the other side's Finished: the wrong one of the two for tls-unique
        data = s.tls.get_peer_finished()
    assert data != good
    kind, condition, _ = s.auth_scram("SCRAM-SHA-256-PLUS", "alice", PASSWORD, cb_type=cb_type, cb_data=data)
    assert (kind, condition) == ("failure", "not-authorized"), log_tail(sasl_server)
    s.close()


def test_channel_binding_data_of_another_connection_is_not_authorized(sasl_server):
    """Data a man in the middle would relay: the binding of the other TLS connection."""
    other = secure_stream(sasl_server, "starttls")
    s = secure_stream(sasl_server, "starttls")
    kind, condition, _ = s.auth_scram("SCRAM-SHA-256-PLUS", "alice", PASSWORD, cb_type="tls-exporter",
                                      cb_data=other.channel_binding("tls-exporter"))
    assert (kind, condition) == ("failure", "not-authorized")
    other.close()
    s.close()


@pytest.mark.parametrize("mechanism", SCRAM)
def test_y_flag_while_plus_is_offered_fails_as_downgrade(sasl_server, mechanism):
    s = secure_stream(sasl_server, "starttls")
    assert mechanism + "-PLUS" in s.mechanisms()
    kind, detail, _ = s.auth_scram(mechanism, "alice", PASSWORD, gs2_flag="y")
    assert kind == "failure", f"a 'y' client was let in although -PLUS was offered: {detail}"
    s.close()


@pytest.mark.parametrize("mechanism", PLUS)
def test_tls_unique_with_made_up_data_is_refused(sasl_server, mechanism):
    s = secure_stream(sasl_server, "starttls")
    kind, detail, _ = s.auth_scram(mechanism, "alice", PASSWORD, gs2_flag="p=tls-unique", cb_data=b"\0" * 12)
    assert (kind, detail) == ("failure", "not-authorized")
    s.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tls_unique_on_tls13_is_accepted_as_openssl_clients_compute_it_but_not_advertised(sasl_server, transport):
    """RFC 9266 leaves tls-unique undefined for TLS 1.3, so it is not advertised there; but
    slixmpp before 1.8.5 (CPython's ssl knows no other type) sends SCRAM-*-PLUS with
    p=tls-unique on TLS 1.3, its own Finished as the data, and must not be pushed to PLAIN."""
    s = secure_stream(sasl_server, transport)
    assert s.tls_version() == "TLSv1.3"
    assert "tls-unique" not in s.channel_binding_types()
    kind, verified, _ = s.auth_scram("SCRAM-SHA-512-PLUS", "alice", PASSWORD, cb_type="tls-unique")
    assert (kind, verified) == ("success", True), log_tail(sasl_server)
    bind_and_ping(s)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_on_tls12_with_extended_master_secret_all_three_types_are_advertised_and_work(sasl_server, transport):
    """RFC 5929: tls-unique is TLS 1.2's default binding; with the extended master secret
    (RFC 7627, on by default in OpenSSL 3) the triple handshake attack does not apply."""
    for cb_type in ACCEPTED_CB_TYPES:
        if transport == "direct_tls":
            s = RawStream(sasl_server.tls_port, direct_tls=True, max_tls=SSL.TLS1_2_VERSION)
            s.open()
        else:
            s = RawStream(sasl_server.port, max_tls=SSL.TLS1_2_VERSION)
            s.open()
            s.starttls()
        assert s.tls_version() == "TLSv1.2"
        assert sorted(s.channel_binding_types()) == sorted(ACCEPTED_CB_TYPES), ET.tostring(s.features)
        kind, verified, _ = s.auth_scram("SCRAM-SHA-256-PLUS", "alice", PASSWORD, cb_type=cb_type)
        assert (kind, verified) == ("success", True), f"{cb_type}\n{log_tail(sasl_server)}"
        bind_and_ping(s)
        s.close()


def test_protocol_failures_do_not_count_toward_the_failure_limit(sasl_server):
    """Two wrong passwords (of three allowed), then downgrades, tls-unique, unknown
    mechanisms and malformed messages: the stream stays open and the right password works."""
    s = secure_stream(sasl_server, "starttls")
    for _ in range(2):
        assert s.auth_scram("SCRAM-SHA-256", "alice", "wrong password")[:2] == ("failure", "not-authorized")
    for _ in range(2):
        assert s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD, gs2_flag="y")[0] == "failure"
        assert s.auth_scram("SCRAM-SHA-256-PLUS", "alice", PASSWORD, gs2_flag="p=tls-unique",
                            cb_data=b"x" * 12)[0] == "failure"
        s.send_auth("X-UNKNOWN", b"whatever")
        assert s.sasl_reply() == ("failure", "invalid-mechanism")
        s.send_auth("SCRAM-SHA-256", b"this is no scram message")
        assert s.sasl_reply() == ("failure", "malformed-request")
        s.send_auth("PLAIN", b"no nul bytes")
        assert s.sasl_reply() == ("failure", "malformed-request")
    assert_stream_still_usable(s, sasl_server)
    bind_and_ping(s)


# -- wrong passwords -------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "mixed"])
def test_three_wrong_passwords_on_one_stream_end_it_with_policy_violation(sasl_server, how):
    s = secure_stream(sasl_server, "starttls")
    attempts = ["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256-PLUS"] if how == "mixed" else [how] * 3
    for mechanism in attempts:
        if mechanism == "PLAIN":
            outcome = s.auth_plain("alice", "wrong password")
        else:
            outcome = s.auth_scram(mechanism, "alice", "wrong password", cb_type="tls-exporter")[:2]
        assert outcome == ("failure", "not-authorized"), log_tail(sasl_server)
    condition, closed_tag = s.expect_stream_error()
    assert condition == "policy-violation", log_tail(sasl_server)
    assert closed_tag and s.eof


def test_two_wrong_passwords_then_the_right_one_succeeds(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    for _ in range(2):
        assert s.auth_plain("alice", "wrong password") == ("failure", "not-authorized")
    assert_stream_still_usable(s, sasl_server)
    bind_and_ping(s)


def test_unknown_account_fails_like_a_wrong_password(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    kind, condition, _ = s.auth_scram("SCRAM-SHA-256", "nobody", PASSWORD)
    assert (kind, condition) == ("failure", "not-authorized")
    s.close()


def test_wrong_scram_proof_is_not_authorized(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    kind, condition, _ = s.auth_scram("SCRAM-SHA-256", "alice", PASSWORD, tamper_proof=True)
    assert (kind, condition) == ("failure", "not-authorized")
    s.close()


# -- authzid, malformed input, encoding, abort, unknown mechanism ---------------------------------

def test_plain_authzid_of_another_account_is_invalid_authzid(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("PLAIN", f"bob@localhost\0alice\0{PASSWORD}".encode())
    assert s.sasl_reply() == ("failure", "invalid-authzid"), log_tail(sasl_server)
    s.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512-PLUS"])
def test_scram_authzid_of_another_account_is_invalid_authzid(sasl_server, mechanism):
    s = secure_stream(sasl_server, "starttls")
    kind, condition, _ = s.auth_scram(mechanism, "alice", PASSWORD, authzid="bob@localhost", cb_type="tls-exporter")
    assert (kind, condition) == ("failure", "invalid-authzid"), log_tail(sasl_server)
    s.close()


@pytest.mark.parametrize("payload", [b"alice" + b"\0" + PASSWORD.encode(), b"alicepassword", b"\0alice",
                                     b"\0\0" + PASSWORD.encode(), b"\0alice\0", b"a\0alice\0pw\0extra"],
                         ids=["one_nul", "no_nul", "no_password_field", "empty_authcid", "empty_password",
                              "three_nuls"])
def test_malformed_plain_is_malformed_request(sasl_server, payload):
    """RFC 4616 §2: message = [authzid] NUL authcid NUL passwd, authcid and passwd not empty."""
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("PLAIN", payload)
    assert s.sasl_reply() == ("failure", "malformed-request"), log_tail(sasl_server)
    assert_stream_still_usable(s, sasl_server)


@pytest.mark.parametrize("client_first", [b"x,,n=alice,r=abcdef", b"n,,r=abcdef", b"n,,n=alice",
                                          b"n,n=alice,r=abcdef", b"hello", b"n,,m=ext,n=alice,r=abc",
                                          b"p=tls-exporter,,n=alice,r=abcdef"],
                         ids=["bad_flag", "no_username", "no_nonce", "no_authzid_field", "junk",
                              "mandatory_extension", "p_flag_without_plus"])
def test_malformed_scram_client_first_is_malformed_request(sasl_server, client_first):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("SCRAM-SHA-256", client_first)
    assert s.sasl_reply() == ("failure", "malformed-request"), log_tail(sasl_server)
    assert_stream_still_usable(s, sasl_server)


@pytest.mark.parametrize("client_final", [b"garbage", b"c=biws,r=nonce", b"c=biws,p=AAAA"],
                         ids=["junk", "no_proof", "no_nonce"])
def test_malformed_scram_client_final_is_malformed_request(sasl_server, client_final):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("SCRAM-SHA-256", b"n,,n=alice,r=abcdefgh")
    kind, _ = s.sasl_reply()
    assert kind == "challenge"
    s.send_response(client_final)
    assert s.sasl_reply() == ("failure", "malformed-request"), log_tail(sasl_server)
    s.close()


@pytest.mark.parametrize("where", ["auth", "response"])
def test_bad_base64_is_incorrect_encoding(sasl_server, where):
    s = secure_stream(sasl_server, "starttls")
    if where == "auth":
        s.send_auth("PLAIN", raw_text="!!!not*base64!!!")
    else:
        s.send_auth("SCRAM-SHA-256", b"n,,n=alice,r=abcdefgh")
        assert s.sasl_reply()[0] == "challenge"
        s.send_response(raw_text="@@@not-base64@@@")
    assert s.sasl_reply() == ("failure", "incorrect-encoding"), log_tail(sasl_server)
    s.close()


def test_abort_gives_failure_aborted_and_a_new_exchange_succeeds(sasl_server):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth("SCRAM-SHA-256", b"n,,n=alice,r=abcdefgh")
    assert s.sasl_reply()[0] == "challenge"
    s.send(f"<abort xmlns='{NS_SASL}'/>")
    assert s.sasl_reply() == ("failure", "aborted")
    assert_stream_still_usable(s, sasl_server)
    bind_and_ping(s)


@pytest.mark.parametrize("mechanism", ["DIGEST-MD5", "X-UNKNOWN", "SCRAM-SHA-384", "scram-sha-256", ""])
def test_unknown_mechanism_is_invalid_mechanism(sasl_server, mechanism):
    s = secure_stream(sasl_server, "starttls")
    s.send_auth(mechanism, b"n,,n=alice,r=abcdefgh")
    assert s.sasl_reply() == ("failure", "invalid-mechanism"), log_tail(sasl_server)
    s.close()


# -- per-IP delay ---------------------------------------------------------------------------

def test_failures_past_the_threshold_are_delayed_but_the_right_password_still_succeeds(make_server):
    server = make_server(sasl="failures_before_delay = 2\nmax_failures_per_stream = 5")
    server.add_user("alice")
    server.start()
    s = secure_stream(server, "starttls")
    for i in range(4):
        # Each answer still comes (the timeout only guards against a hang).
        outcome = s.auth_scram("SCRAM-SHA-256", "alice", f"wrong password {i}")[:2]
        assert outcome == ("failure", "not-authorized"), log_tail(server)
    assert "delayed" in server.log(), log_tail(server)
    # Not locked out: the right password from a new connection gets in.
    good = secure_stream(server, "direct_tls")
    outcome = good.auth_scram("SCRAM-SHA-256-PLUS", "alice", PASSWORD, cb_type="tls-server-end-point")[:2]
    assert outcome == ("success", True), log_tail(server)
    bind_and_ping(good)
    # The stream with four failures (of five allowed) is still open too.
    assert_stream_still_usable(s, server)
    assert server.alive()
