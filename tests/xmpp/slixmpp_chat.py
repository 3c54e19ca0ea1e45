"""slixmpp, from PyPI, against fbcomet's XMPP door as chat.facebook.com.

Logs in with X-FACEBOOK-PLATFORM (over STARTTLS, trusting fbcomet's CA),
prints the roster, waits for PEER to come online, sends TEXT to PEER and
waits for a reply, printing what it sees as JSON lines ("step": ...).

Arguments: host port jid api_key access_token peer_jid text ca_file

slixmpp 1.x's own X-FACEBOOK-PLATFORM returns `bytes(str)`, which Python 3
refuses (TypeError); the class below is the same mechanism with that one
line fixed, registered the way slixmpp's API lets an application add one.
"""
import asyncio
import json
import os
import ssl
import sys

import slixmpp
from slixmpp.util.sasl.mechanisms import X_FACEBOOK_PLATFORM
from slixmpp.util.sasl.client import sasl_mech

host, port, jid, api_key, token, peer, text, ca_file = sys.argv[1:9]


@sasl_mech(10)
class FixedFacebookPlatform(X_FACEBOOK_PLATFORM):
    def process(self, challenge=b''):
        if not challenge:
            return b''
        values = dict(kv.split(b'=', 1) for kv in challenge.split(b'&'))
        resp = {
            b'method': values[b'method'], b'v': b'1.0', b'call_id': b'1.0', b'nonce': values[b'nonce'],
            b'access_token': self.credentials['access_token'], b'api_key': self.credentials['api_key'],
        }
        return b'&'.join(k + b'=' + v for k, v in resp.items())


def say(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, "")
        self.credentials["api_key"] = api_key.encode()
        self.credentials["access_token"] = token.encode()
        self.ca_certs = ca_file
        self.register_plugin("xep_0085")  # chat states
        self.register_plugin("xep_0199")  # ping
        self.plugin["feature_mechanisms"].use_mech = "X-FACEBOOK-PLATFORM"
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("chatstate_composing", self.on_composing)
        self.add_event_handler("presence_available", self.on_available)
        self.sent = False

    async def start(self, event):
        roster = await self.get_roster()
        items = {j: self.client_roster[j]["name"] for j in self.client_roster if j != self.boundjid.bare}
        groups = sorted({g for j in items for g in self.client_roster[j]["groups"]})
        tls = isinstance(self.socket, (ssl.SSLObject, ssl.SSLSocket))
        say("roster", items=items, groups=groups, jid=self.boundjid.full, tls=tls)
        self.send_presence()

    def on_available(self, presence):
        if presence["from"].bare == peer and not self.sent:
            self.sent = True
            say("peer_online", show=presence["show"])
            self.send_message(mto=peer, mbody=text, mtype="chat")
            say("sent")

    def on_composing(self, message):
        say("composing", sender=message["from"].bare)

    def on_message(self, message):
        if message["type"] in ("chat", "normal") and message["body"]:
            say("message", sender=message["from"].bare, body=message["body"])
            self.disconnect()


asyncio.get_event_loop().call_later(60, lambda: os._exit(3))
client = Client()
client.connect(host, int(port))
client.loop.run_until_complete(client.disconnected)
say("done")
