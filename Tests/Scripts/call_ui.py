"""A video call between two real browsers on 127.0.0.1, with Chromium's fake camera and
microphone: mum rings from the chat's header, dad's browser shows who calls and accepts; both
RTCPeerConnections reach `connected` and the bytes each receives (getStats) grow; mum mutes and
turns her camera off; dad hangs up, both screens say it ended, and the chat shows the call's line
("Video call, 7 s"). A browser that may not use the camera says so in words. With `relay` as a
fourth argument both browsers allow only TURN relay candidates (`iceTransportPolicy: "relay"`):
the call must then go through the TURN server the hearth under test names; with `norelay` the
same is expected to fail (a wrong TURN secret), and the screen says the connection failed.

Usage: call_ui.py BASE_URL PASSWORD SCREENSHOT_DIR [relay|norelay]
The server has mum and dad with PASSWORD. Prints OK.
"""

import os
import sys
import time

from chat import sign_in
from conversation import api, login, wait
from first_run import browser, by_testid
from selenium.webdriver.common.by import By
from selenium.webdriver import ChromeOptions
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

STATS = """
const done = arguments[arguments.length - 1];
const call = window.hearthCall.call;
if (!call) return done(null);
Promise.all([...call.peers.values()].map(async (peer) => {
  let bytes = 0, relay = false;
  const stats = await peer.pc.getStats();
  const pairs = {};
  stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated) pairs[s.localCandidateId] = s; });
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp') bytes += s.bytesReceived || 0;
    if (s.type === 'local-candidate' && pairs[s.id] && s.candidateType === 'relay') relay = true;
  });
  return { state: peer.pc.connectionState, bytes, relay };
})).then(done);
"""


def stats(driver):
    return driver.execute_async_script(STATS)


def denied_browser():
    """Headless Chromium whose site may not use the camera or microphone."""
    options = ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--use-fake-device-for-media-stream", "--deny-permission-prompts"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def open_room(driver, base, name, password, room, policy=None):
    sign_in(driver, base, name, password)
    if policy:
        driver.execute_script("localStorage.setItem('hearth-ice-policy', arguments[0])", policy)
    driver.get("about:blank")
    driver.get(f"{base}/#room={room}")
    wait(driver, lambda d: d.find_element(By.ID, "chat-title").text)


def main(base, password, shots, mode=None):
    os.makedirs(shots, exist_ok=True)
    token = login(base, "mum", password)
    room = api(base, "POST", "/rooms", token, {"members": ["dad"], "direct": True})["room"]["id"]
    policy = "relay" if mode in ("relay", "norelay") else None
    mum, dad = browser(media=True), browser(media=True)
    try:
        open_room(mum, base, "mum", password, room, policy)
        open_room(dad, base, "dad", password, room, policy)
        by_testid(mum, "call-video").click()
        wait(dad, lambda d: d.find_element(By.ID, "call-incoming").is_displayed())
        title = by_testid(dad, "call-incoming").text
        assert "mum is calling" in title and "Video call" in title, title
        dad.save_screenshot(os.path.join(shots, "call-incoming.png"))
        check = None
        if mode is None:
            # The call's screens pass axe-core as every other page does (every_page.py).
            from every_page import Checker
            check = Checker(shots)
            check.axe(dad, "call-incoming", "headless")
        print("dad's browser rings:", " / ".join(title.split("\n")))
        by_testid(dad, "call-accept").click()

        if mode == "norelay":
            # coturn refuses the credentials: no relay candidate, so no connection, and no bytes.
            wait(mum, lambda d: stats(d), 30)
            time.sleep(12)
            for name, driver in (("mum", mum), ("dad", dad)):
                peers = stats(driver)
                assert peers and all(p["state"] != "connected" and p["bytes"] == 0 for p in peers), (name, peers)
            told = wait(mum, lambda d: "could not connect" in by_testid(d, "call-status").text
                        and by_testid(d, "call-status").text, 30)
            print("relay only, wrong TURN secret: no connection;", stats(mum), "— the screen says:", repr(told))
            by_testid(mum, "call-hangup").click()
            print("OK")
            return

        def connected(driver):
            peers = stats(driver)
            return peers and all(p["state"] == "connected" for p in peers) and peers
        first = {name: wait(driver, connected, 60) for name, driver in (("mum", mum), ("dad", dad))}
        time.sleep(2)
        second = {name: stats(driver) for name, driver in (("mum", mum), ("dad", dad))}
        for name in ("mum", "dad"):
            before, after = first[name][0]["bytes"], second[name][0]["bytes"]
            assert after > before > 0, (name, before, after)
            if mode == "relay":
                assert second[name][0]["relay"], (name, "not through the TURN relay", second[name])
            print(f"{name}: connected, received {before} → {after} bytes in 2 s"
                  + (" through the TURN relay" if mode == "relay" else ""))
        wait(mum, lambda d: by_testid(d, "call-duration").text.startswith("0:"))
        tiles = mum.find_elements(By.CSS_SELECTOR, "[data-testid=call-tile]")
        assert len(tiles) == 1 and "dad" in tiles[0].text, [t.text for t in tiles]
        mum.save_screenshot(os.path.join(shots, "call-mum.png"))
        if check:
            check.axe(mum, "call-screen", "headless")
            assert not check.problems, "\n".join(check.problems)
            print("the incoming-call screen and the call screen pass axe-core")
        dad.save_screenshot(os.path.join(shots, "call-dad.png"))

        # Mute and camera off turn the tracks off.
        by_testid(mum, "call-mute").click()
        by_testid(mum, "call-camera").click()
        enabled = mum.execute_script(
            "return window.hearthCall.local.getTracks().map((t) => t.kind + ':' + t.enabled).sort()")
        assert enabled == ["audio:false", "video:false"], enabled
        assert by_testid(mum, "call-mute").get_attribute("aria-pressed") == "true"
        print("mum muted and turned her camera off:", enabled)
        time.sleep(5)

        by_testid(dad, "call-hangup").click()
        wait(mum, lambda d: "ended" in by_testid(d, "call-status").text)
        assert "hung up" in by_testid(dad, "call-status").text
        assert mum.execute_script("return window.hearthCall.call") is None
        print("dad hung up; mum's screen:", by_testid(mum, "call-status").text)
        for driver in (mum, dad):
            by_testid(driver, "call-close").click()
            line = wait(driver, lambda d: [m.text for m in d.find_elements(By.CSS_SELECTOR, "#messages .system")
                                           if "Video call" in m.text])
        print("the chat shows:", line[-1])
    finally:
        mum.quit()
        dad.quit()

    if mode is None:
        # A browser that may not use the camera says so, and nothing rings.
        kid = denied_browser()
        try:
            open_room(kid, base, "mum", password, room)
            by_testid(kid, "call-video").click()
            text = wait(kid, lambda d: "may not use your camera" in by_testid(d, "call-status").text
                        and by_testid(d, "call-status").text)
            kid.save_screenshot(os.path.join(shots, "call-denied.png"))
            print("camera refused:", text)
        finally:
            kid.quit()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:5])
