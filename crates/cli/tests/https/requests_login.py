"""Python's requests, unchanged, through fbcomet as its HTTPS proxy.

Run with HTTPS_PROXY and REQUESTS_CA_BUNDLE set (as a user would set them):
logs in, scrapes home.php, polls the channel once, and prints what it got
as JSON on one line.
"""
import json
import re
import sys

import requests

session = requests.Session()
login = session.post(
    "https://www.facebook.com/login.php",
    data={"email": sys.argv[1], "pass": sys.argv[2]},
    timeout=20,
)
home = session.get("https://www.facebook.com/home.php", timeout=20)
uid = re.search(r"profile\.php\?id=(\d+)", home.text).group(1)
channel = re.search(r'"channel(\d+)"', home.text).group(1)
poll = session.get(
    "https://0.channel%s.facebook.com/x/0/false/p_%s=-1" % (channel, uid),
    timeout=20,
)
print(json.dumps({
    "login_status": login.status_code,
    "final_url": login.url,
    "uid": uid,
    "channel": channel,
    "poll": poll.text,
}))
