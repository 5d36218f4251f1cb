#!/usr/bin/python3
"""Renders the timeline page of `sledger serve` in headless Chromium on the incident-april
fixture and checks the DOM Chromium built against values worked out by hand from
Fixtures/incident-april/README.md; writes a screenshot with --screenshot FILE.

    Tools/timeline_check.py [--sledger .build/debug/sledger] [--screenshot docs/images/timeline.png]

Needs Debian's `chromium` (apt-get install -y chromium). Ends with "N passed, M failed";
exit status 1 when a check failed.
"""
import argparse, html.parser, os, subprocess, sys, tempfile, time, urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DANA, LEE, BOT, DESK = "dana.okafor@acme.example", "lee.contractor@acme.example", "ops-bot", "front.desk@acme.example"
HOSTILE = '<script>alert("x")</script>'


class Dom(html.parser.HTMLParser):
    """Every element as (tag, attributes, text directly inside), in document order."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = [tag, dict(attrs), ""]
        self.elements.append(element)
        if tag not in ("input", "meta", "br", "option", "link"):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.elements if (tag is None or e[0] == tag)
                and all(e[1].get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def inside(self, lane):
        """The elements after `lane` up to the next lane or the end of the grid (its children)."""
        i = self.elements.index(lane) + 1
        out = []
        while i < len(self.elements) and "lane" not in self.elements[i][1].get("class", "") \
                and self.elements[i][1].get("class") not in ("label", "legend"):
            out.append(self.elements[i])
            i += 1
        return out


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def equal(self, what, got, want):
        if got == want:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}: got {got!r}, want {want!r}")


def dom(port, query):
    url = f"http://127.0.0.1:{port}/?" + urllib.parse.urlencode(query)
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    if not out.stdout:
        print(f"chromium gave no DOM for {url}: {out.stderr[-300:]}")
    return Dom(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sledger", default=os.path.join(ROOT, ".build/debug/sledger"))
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sledger-timeline-")
    ledger = os.path.join(work, "ledger")
    extra = os.path.join(work, "hostile.ndjson")
    with open(extra, "w") as f:  # a user id that is HTML: it must show as text, never run
        f.write('{"type":"login","at":"2026-04-09T08:00:00Z","user":"%s","session":"s_x","client":"web","method":"google"}\n'
                % HOSTILE.replace('"', '\\"'))
    subprocess.run([args.sledger, "import", "--ledger", ledger,
                    os.path.join(ROOT, "Fixtures/incident-april/events.ndjson"), extra], check=True, capture_output=True)
    server = subprocess.Popen([args.sledger, "serve", "--ledger", ledger, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline().rsplit(":", 1)[1])
        c = Checks()

        # Dana (story 1): three sessions; web ends by "log out of all" at 12:00, the phone by
        # its late logout at 11:00, the new web session expired on 05-04 (28 days after 14:20).
        d = dom(port, {"user": DANA, "at": "2026-04-06T12:45:00"})
        lanes = d.find("div", class_="lane")
        c.equal("dana's sessions", [l[1].get("data-session") for l in lanes], ["s_dana_web", "s_dana_ios", "s_dana_web2"])
        c.equal("dana's end reasons", [l[1].get("data-end-reason") for l in lanes], ["logout_all", "logout", "expired"])
        c.equal("dana's ends", [l[1].get("data-end-at") for l in lanes],
                ["2026-04-06T12:00:00Z", "2026-04-06T11:00:00Z", "2026-05-04T14:20:00Z"])
        inside = [d.inside(l) for l in lanes]
        ticks = [[e[1]["data-at"] for e in els if e[1].get("class") == "tick"] for els in inside]
        c.equal("refresh ticks", ticks, [["2026-04-06T09:10:00Z"], [], ["2026-04-06T14:20:00Z"]])
        flags = [[e[1]["data-rule"] for e in els if "flag" in e[1].get("class", "")] for els in inside]
        c.equal("findings on the bars", flags, [["refresh-after-end", "refresh-after-end"], ["late-event"], ["early-refresh"]])
        severities = [[e[1]["class"] for e in els if "flag" in e[1].get("class", "")] for els in inside]
        c.equal("flag severities", severities, [["flag error", "flag error"], ["flag warning"], ["flag warning"]])
        ends = [[e[2] for e in els if e[1].get("class", "").startswith("end")] for els in inside]
        c.equal("end labels", ends, [["log out of all"], ["logout"], ["→ expired 2026-05-04"]])
        bars = [[e[1]["style"] for e in els if e[1].get("class", "").startswith("bar")][0] for els in inside]
        colours = [b.split("background:")[1] for b in bars]
        c.equal("coloured by client (web, ios, web)", (colours[0] == colours[2], colours[0] != colours[1]), (True, True))
        c.equal("the picked instant is drawn on every bar", sum(1 for e in d.elements if e[1].get("class") == "cursor"), 3)
        c.equal("who at 12:45", [e[2] for e in d.find("p", class_="empty")], ["Nobody."])

        # Who at 09:30 on 04-08 (expected-who.json): Dana, the kiosk and ops-bot, one each.
        w = dom(port, {"at": "2026-04-08T09:30"})
        rows = [(e[1]["data-user"], e[1]["data-sessions"]) for e in w.find("tr") if "data-user" in e[1]]
        c.equal("who at 04-08 09:30", rows, [(DANA, "1"), (DESK, "1"), (BOT, "1")])

        # ops-bot (story 3): a token deleted at 10:00, deleted again at 10:05 (delete-inactive).
        b = dom(port, {"user": BOT})
        lane = b.find("div", class_="lane", data_session="s_bot_token")[0]
        c.equal("token end", (lane[1].get("data-end-reason"), lane[1].get("data-end-at")), ("token_deleted", "2026-04-08T10:00:00Z"))
        c.equal("token flags", [e[1]["data-rule"] for e in b.inside(lane) if "flag" in e[1].get("class", "")], ["delete-inactive"])

        # Lee (story 2): password login and "log out of all" from a phone, both errors.
        l = dom(port, {"user": LEE})
        lane = l.find("div", class_="lane", data_session="s_lee_phone")[0]
        c.equal("lee's end", lane[1].get("data-end-reason"), "logout_all")
        c.equal("lee's flags", [e[1]["data-rule"] for e in l.inside(lane) if "flag" in e[1].get("class", "")],
                ["login-method", "logout-all-client"])

        # A user id written in HTML is text on the page, never markup.
        h = dom(port, {"user": HOSTILE})
        c.equal("no script element", len(h.find("script")), 0)
        c.equal("the id shown as text", h.find("section", id="timeline")[0][1].get("data-user"), HOSTILE)

        if args.screenshot:
            url = f"http://127.0.0.1:{port}/?" + urllib.parse.urlencode({"user": DANA, "at": "2026-04-06T12:45:00"})
            subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--window-size=1280,860", f"--screenshot={os.path.abspath(args.screenshot)}", url],
                           capture_output=True, timeout=120, check=True)
            print(f"screenshot: {args.screenshot}")
        print(f"{c.passed} passed, {c.failed} failed")
        return 1 if c.failed else 0
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
