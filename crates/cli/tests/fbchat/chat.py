"""fbchat 1.1.3, unchanged, against fbcomet.

Run with HTTPS_PROXY and REQUESTS_CA_BUNDLE set, as a user of fbchat would
set them to point it at `fbcomet serve`. Arguments: email, password, the
uid of the peer, the text to send. Prints one JSON object per line, each
with a "step"; the test reads them in order. After "listening" it waits
for one message from the peer and prints it, then exits.
"""
import json
import logging
import sys
import threading
import os

from fbchat import Client
from fbchat.models import Message, ThreadType, TypingStatus

email, password, peer, text = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def say(step, **fields):
    fields["step"] = step
    print(json.dumps(fields), flush=True)


# Nothing may hang the test: give up after two minutes.
threading.Timer(120, lambda: os._exit(3)).start()


class Listener(Client):
    def onListening(self):
        say("listening")

    def onMessage(self, mid=None, author_id=None, message=None, message_object=None,
                  thread_id=None, thread_type=None, ts=None, metadata=None, msg=None, **kwargs):
        if author_id == self.uid:
            return
        say("message", mid=mid, author=author_id, thread=thread_id,
            thread_type=thread_type.name if thread_type else None, text=message)
        self.stopListening()


client = Listener(email, password, logging_level=logging.WARNING)
say("logged_in", uid=client.uid, logged_in=client.isLoggedIn())
say("users", names=sorted(u.name for u in client.fetchAllUsers()))
client.setTypingStatus(TypingStatus.TYPING, thread_id=peer, thread_type=ThreadType.USER)
mid = client.send(Message(text=text), thread_id=peer, thread_type=ThreadType.USER)
say("sent", mid=mid)
say("threads", names=[t.name for t in client.fetchThreadList()])
info = client.fetchUserInfo(peer)[peer]
say("user_info", name=info.name, first_name=info.first_name, is_friend=info.is_friend)
history = client.fetchThreadMessages(thread_id=peer, limit=10)
say("history", texts=[m.text for m in history], authors=[m.author for m in history])

# A session saved and restored: no password needed while the cookies live.
cookies = client.getSession()
restored = Client(email, "not the password", session_cookies=cookies, logging_level=logging.WARNING)
say("restored", logged_in=restored.isLoggedIn(), uid=restored.uid)

client.listen()
say("done")
os._exit(0)
