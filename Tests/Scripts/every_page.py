"""Every page of the chat and of the admin panel, at phone and laptop sizes, light and dark:
nothing wider than the screen, and axe-core finds no serious or critical accessibility problem.

Usage: every_page.py BASE_URL PASSWORD SCREENSHOT_DIR [--report]
The server has mum (admin), dad, kid and gran (moderator), all with PASSWORD. The script fills it
through the API as a family would (a group, a direct chat, a photo, a report, a held message, an
invite, a mute), then opens each page in headless Chromium: at 360, 390 and 430 px wide it checks
that no element reaches past the right edge of the screen; at 390 and 1280 px, and at 1280 px in
dark mode, it runs axe-core (the copy PyPI's axe-selenium-python ships). A screenshot of each page
at 390 and 1280 px goes to SCREENSHOT_DIR. Prints OK, or every problem found and exits non-zero
(with --report, lists them and exits zero: for looking at a build before fixing it).
"""

import json
import os
import struct
import sys
import time
import urllib.request
import zlib

import axe_selenium_python
import selenium_axe_python
import websocket
from axe_selenium_python import Axe
from chat import sign_in
from conversation import api, login
from first_run import browser
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PHONES = (360, 390, 430)

# What is wider than the screen: elements that reach past its right edge (unless an ancestor
# clips them), boxes whose content scrolls sideways (a navigation cut off at "Ro…"), and short
# words broken across lines (a table column too narrow: "Wh en"; a break after a hyphen is fine).
# Text fields scroll their own text.
OVERFLOW = """
const width = document.documentElement.clientWidth;
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' &&
  !e.closest('.visually-hidden, [hidden], input, textarea, select');
const clipped = e => {
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  return false;
};
const problems = [];
if (document.documentElement.scrollWidth > width + 1)
  problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide`);
for (const e of document.body.querySelectorAll('*')) {
  if (!shown(e)) continue;
  const r = e.getBoundingClientRect();
  if (r.right > width + 1 && r.width > 1 && !clipped(e))
    problems.push(`${name(e)} reaches ${Math.round(r.right)} px: ${(e.textContent || '').trim().slice(0, 40)}`);
  const style = getComputedStyle(e);
  if (['auto', 'scroll', 'hidden'].includes(style.overflowX) && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1)
    problems.push(`${name(e)} hides ${e.scrollWidth - e.clientWidth} px sideways: ${(e.textContent || '').trim().slice(0, 40)}`);
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (!node.parentElement || !shown(node.parentElement)) continue;
  for (const match of node.data.matchAll(/(?<![^\\s-])[^\\s-]{2,20}(?![^\\s-])/g)) {
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (lines.size > 1) problems.push(`"${match[0]}" is broken across lines in ${name(node.parentElement)}`);
  }
}
return [...new Set(problems)].slice(0, 8);
"""

# axe-core as PyPI's axe-selenium-python ships it (3.1), and the current one selenium-axe-python
# ships (4.x, which knows WCAG 2.1 and 2.2): both must find nothing serious or critical.
ENGINES = [os.path.join(os.path.dirname(module.__file__), *path) for module, path in (
    (axe_selenium_python, ("node_modules", "axe-core", "axe.min.js")),
    (selenium_axe_python, ("axe-core", "axe.min.js")))]


def png(width, height):
    """A small PNG photo (a two-colour gradient), made here so the test needs no image files."""
    rows = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 120)) for x in range(width))
                    for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Socket:
    """One signed-in device's chat socket, for sending as a family member would."""

    def __init__(self, base, token):
        self.ws = websocket.create_connection(
            base.replace("http", "ws", 1) + "/api/v1/ws", header=[f"Authorization: Bearer {token}"], timeout=30)
        self.count = 0

    def send(self, room, body="", **extra):
        self.count += 1
        frame_id = f"seed-{self.count}"
        self.ws.send(json.dumps(dict({"type": "send", "id": frame_id, "room": room, "body": body}, **extra)))
        while True:
            frame = json.loads(self.ws.recv())
            if frame.get("id") == frame_id:
                assert frame["type"] == "ack", frame
                return frame

    def close(self):
        self.ws.close()


def seed(base, password):
    """A family's first week: returns what the pages need (room ids, an invite link)."""
    tokens = {name: login(base, name, password) for name in ("mum", "dad", "kid", "gran")}
    family = api(base, "POST", "/rooms", tokens["mum"],
                 {"name": "Family", "members": ["dad", "kid", "gran"]})["room"]["id"]
    direct = api(base, "POST", "/rooms", tokens["mum"], {"members": ["dad"], "direct": True})["room"]["id"]
    mum, dad, kid = (Socket(base, tokens[name]) for name in ("mum", "dad", "kid"))
    try:
        mum.send(family, "Dinner at 7? Grandma is coming, bring the big table from the garage please")
        dad.send(family, "Yes! The recipe: https://example.com/recipes/a-very-long-address-that-does-not-fit-on-a-phone-screen-at-all")
        dad.send(direct, "Can you pick up milk on the way home?")
        mum.send(direct, "Sure 👍")
        def upload(token, name, data, content_type):
            request = urllib.request.Request(base + "/api/v1/attachments?name=" + name, method="POST", data=data)
            request.add_header("Authorization", "Bearer " + token)
            request.add_header("Content-Type", content_type)
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())["attachment"]["id"]
        # A voice note (its player) and a document (its card), in the direct chat.
        voice = upload(tokens["dad"], "voice-note-1.ogg&duration=7000", b"OggS" + bytes(2000), "audio/ogg")
        dad.send(direct, attachments=[voice])
        document = upload(tokens["mum"], "Shopping%20list%20for%20the%20whole%20week.csv", b"eggs,flour\n", "text/csv")
        mum.send(direct, attachments=[document])
        photo = upload(tokens["kid"], "garden.png", png(320, 240), "image/png")
        shared = kid.send(family, attachments=[photo])
        reported = kid.send(family, "this chat is so boring")
        # Reports: one left open, one dismissed, one whose message a moderator deletes.
        api(base, "POST", "/reports", tokens["dad"], {"messageId": shared["messageId"], "reason": "not for the family chat"})
        api(base, "POST", "/reports", tokens["gran"], {"messageId": reported["messageId"], "reason": "rude"})
        rude = kid.send(family, "whatever, loser")
        api(base, "POST", "/reports", tokens["dad"], {"messageId": rude["messageId"], "reason": "name-calling"})
        queue = api(base, "GET", "/admin/queue", tokens["gran"])["items"]
        for item in queue:
            if item["message"]["body"] == "this chat is so boring":
                api(base, "POST", f"/admin/queue/{item['id']}/dismiss", tokens["gran"], {"note": "just grumpy"})
            if item["message"]["body"] == "whatever, loser":
                api(base, "POST", f"/admin/queue/{item['id']}/delete", tokens["gran"], {"note": "be kind"})
        # A rule that holds a message for review, and one held.
        api(base, "POST", "/admin/rules", tokens["mum"],
            {"pattern": "poker", "kind": "word", "action": "hold"})
        held = kid.send(family, "poker night at Sam's?")
        assert held.get("held"), held
        api(base, "POST", "/admin/users/kid/mute", tokens["gran"], {"minutes": 30, "reason": "calm down"})
    finally:
        for socket in (mum, dad, kid):
            socket.close()
    invite = api(base, "POST", "/admin/invites", tokens["mum"], {"uses": 2, "days": 3})["url"]
    link = api(base, "POST", "/devices/link", tokens["dad"])["url"]
    return {"family": family, "direct": direct, "invite": invite, "link": link}


def dark(driver, on):
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": "dark" if on else "light"}]})


class Checker:
    def __init__(self, shots):
        self.shots = shots
        self.problems = []
        self.pages = 0

    def axe(self, driver, page, mode):
        # axe walks the whole page in one asynchronous script; on a loaded 2-core machine running
        # other suites beside it, that has taken longer than Selenium's default 30 s.
        driver.set_script_timeout(180)
        for engine in ENGINES:
            axe = Axe(driver, script_url=engine)
            axe.inject()
            results = axe.run()
            version = driver.execute_script("return axe.version")
            for violation in results["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    nodes = "; ".join(" ".join(node["target"]) + " (" + node.get("failureSummary", "").replace("\n", " ")[:160] + ")"
                                      for node in violation["nodes"][:3])
                    self.problems.append(f"{page} ({mode}, axe {version}): {violation['impact']} {violation['id']}: "
                                         f"{violation['help']} — {nodes}")

    def overflow(self, driver, page, width):
        for line in driver.execute_script(OVERFLOW):
            self.problems.append(f"{page} at {width} px: {line}")

    def dialog_keeps_focus(self, driver, base):
        """The devices dialog keeps keyboard focus (forwards and back), closes with Escape, and
        gives focus back to the button that opened it."""
        driver.set_window_size(1280, 900)
        goto(base, "/", "#open-settings")(driver)
        driver.find_element(By.ID, "open-settings").click()
        visible("#settings")(driver)
        for keys in (Keys.TAB, Keys.SHIFT + Keys.TAB):
            escaped = None
            for _ in range(30):
                ActionChains(driver).send_keys(keys).perform()
                if not driver.execute_script("return document.getElementById('settings').contains(document.activeElement)"):
                    escaped = driver.execute_script("const a = document.activeElement; return a.id || a.tagName")
                    break
            if escaped:
                self.problems.append(f"the devices dialog let keyboard focus out to {escaped}")
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        WebDriverWait(driver, 10).until(lambda d: not d.find_element(By.ID, "settings").is_displayed())
        focused = driver.execute_script("return document.activeElement.id")
        if focused != "open-settings":
            self.problems.append(f"closing the devices dialog left focus on {focused!r}, not its button")

    def page(self, driver, name, show):
        """Shows a page at each size with `show(driver)` and checks it."""
        self.pages += 1
        for width in PHONES:
            driver.set_window_size(width, 844)
            show(driver)
            time.sleep(0.3)
            self.overflow(driver, name, width)
            if width == 390:
                driver.save_screenshot(os.path.join(self.shots, f"{name}-390.png"))
                self.axe(driver, name, "390 px")
        driver.set_window_size(1280, 900)
        show(driver)
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(self.shots, f"{name}-1280.png"))
        self.axe(driver, name, "1280 px")
        dark(driver, True)
        show(driver)
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(self.shots, f"{name}-1280-dark.png"))
        self.axe(driver, name, "1280 px, dark")
        dark(driver, False)


def visible(css):
    return lambda driver: WebDriverWait(driver, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def goto(base, path, css):
    def show(driver):
        if "#" in path:
            driver.get("about:blank")  # else a new #fragment would not load the page again
        driver.get(base + path)
        visible(css)(driver)
    return show


def click(base, path, css, target, then=None):
    """Opens `path`, waits for `css`, then clicks `target` and waits for what it opens (and so
    again with `then`, inside it)."""
    def show(driver):
        goto(base, path, css)(driver)
        for step in (target, then):
            if step:
                driver.find_element(By.CSS_SELECTOR, step[0]).click()
                visible(step[1])(driver)
    return show


def typing(base, field, text, css):
    """Opens the chat, types `text` into `field`, and waits for `css`."""
    def show(driver):
        goto(base, "/", field)(driver)
        driver.find_element(By.CSS_SELECTOR, field).send_keys(text)
        visible(css)(driver)
    return show


def submitting(base, path, action, css):
    """Opens `path`, submits its form that posts to `action`, and waits for `css` on the answer."""
    def show(driver):
        goto(base, path, f'form[action="{action}"]')(driver)
        driver.find_element(By.CSS_SELECTOR, f'form[action="{action}"] button[type=submit]').click()
        visible(css)(driver)
    return show


def main(base, password, shots, report=False):
    os.makedirs(shots, exist_ok=True)
    family = seed(base, password)
    check = Checker(shots)
    driver = browser()
    try:
        sign_in(driver, base, "mum", password)
        room = f"/#room={family['family']}"
        check.page(driver, "chat-list", goto(base, "/", '[data-testid="room-item"]'))
        check.page(driver, "chat-group", goto(base, room, '[data-testid="message"]'))
        check.page(driver, "chat-direct", goto(base, f"/#room={family['direct']}", '[data-testid="message"]'))
        check.page(driver, "chat-options", click(
            base, room, '[data-testid="message"]', ('#chat-options summary', '#option-pin')))
        check.page(driver, "chat-group-settings",
                   click(base, room, '[data-testid="group-settings"]', ('[data-testid="group-settings"]', "#group")))
        check.page(driver, "chat-settings", click(base, "/", "#open-settings", ("#open-settings", "#settings")))
        check.page(driver, "chat-password", click(
            base, "/", "#open-settings", ("#open-settings", "#settings"), then=("#password-change summary", "#password-form")))
        check.page(driver, "chat-message-menu", click(
            base, room, '[data-testid="message-menu"]', ('[data-testid="message-menu"]',
                                                         '[role="menu"]')))
        check.page(driver, "chat-search", typing(base, "#search", "table", '[data-testid="search-result"]'))
        check.dialog_keeps_focus(driver, base)
        # The panel, entered from the chat: a step-up asks for the password only.
        driver.get(base + "/admin")
        visible("#password")(driver).send_keys(password)
        driver.find_element(By.CSS_SELECTOR, 'form[action="/admin/login"] button[type=submit]').click()
        visible(".tiles")(driver)
        for name, path, css in [
                ("panel-dashboard", "/admin", ".tiles"), ("panel-users", "/admin/users", "table"),
                ("panel-user", "/admin/users/kid", "h1"), ("panel-invites", "/admin/invites", "table"),
                ("panel-devices", "/admin/devices", "table"), ("panel-rooms", "/admin/rooms", "table"),
                ("panel-rules", "/admin/rules", "#pattern"), ("panel-rule", "/admin/rules/1", "#pattern"),
                ("panel-queue", "/admin/reports", "h1"), ("panel-queue-decided", "/admin/reports?decided=true", "h1"),
                ("panel-audit", "/admin/audit", "table"), ("panel-backups", "/admin/backups", "#directory"),
                ("panel-settings", "/admin/settings", "h1"),
                ("panel-confirm", "/admin/users/kid/disable", "#reason")]:
            check.page(driver, name, goto(base, path, css))
        # The review queue in words: what each choice does, a photo as words, a deleted message's
        # decision kept under "decided".
        goto(base, "/admin/reports", "h1")(driver)
        queue = driver.find_element(By.TAG_NAME, "main").text
        for words in ("Held by a rule: kid’s message in Family", "Approve and deliver", "kid sent a PNG image (garden.png)",
                      "Close this without judging the message", "dad reported it: “not for the family chat”"):
            if words not in queue:
                check.problems.append(f"the review queue does not say {words!r}")
        goto(base, "/admin/reports?decided=true", "h1")(driver)
        decided = driver.find_element(By.TAG_NAME, "main").text
        for words in ("Deleted by gran", "“be kind”", "kid (deleted)", "Dismissed (the message left as it was) by gran"):
            if words not in decided:
                check.problems.append(f"the decided items do not say {words!r}")
        # Pages that answer a form: an invite's link and QR code, a new backup key, a reset link.
        check.page(driver, "panel-invite-created", submitting(base, "/admin/invites", "/admin/invites", "#secret-link"))
        check.page(driver, "panel-backup-key", submitting(base, "/admin/backups", "/admin/backups/key", "#ending"))
        check.page(driver, "panel-reset-link",
                   submitting(base, "/admin/users/kid", "/admin/users/kid/reset", "#secret-link"))
        reset = driver.find_element(By.ID, "secret-link").get_attribute("value")
    finally:
        driver.quit()

    guest = browser()
    try:
        check.page(guest, "chat-sign-in", goto(base, "/", '[data-testid="login-username"]'))
        check.page(guest, "chat-invite", goto(base, family["invite"].replace(base, ""), '[data-testid="invitation"]'))
        check.page(guest, "chat-setup-closed", goto(base, "/setup", "#setup-unavailable"))
        check.page(guest, "panel-sign-in", goto(base, "/admin", "#username"))
        check.page(guest, "chat-link-a-phone", goto(base, family["link"].replace(base, ""), '[data-testid="link-device-name"]'))
        check.page(guest, "reset-password", goto(base, reset.replace(base, ""), "#password"))
    finally:
        guest.quit()

    for problem in check.problems:
        print(problem)
    if check.problems and not report:
        sys.exit(f"{len(check.problems)} problems on {check.pages} pages")
    print(f"{check.pages} pages checked")
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], "--report" in sys.argv[4:])
