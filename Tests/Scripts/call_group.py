"""A group video call of four real browsers (Chromium's fake cameras) on 127.0.0.1: mum rings
the Family group, dad, kid and gran accept on the incoming-call screen, and every browser ends
up with three peer connections `connected` (a mesh: six in all), each receiving bytes, and three
video tiles; the speaker view puts one tile first. Then it reads the server's CPU over 15
seconds of the call (media do not pass through it, so it should be near zero) and everyone
hangs up: the group gets one line for the call.

Usage: call_group.py BASE_URL PASSWORD SCREENSHOT_DIR
The server has mum, dad, kid and gran with PASSWORD. Prints OK.
"""

import os
import re
import subprocess
import sys
import time

from call_ui import STATS, open_room, stats
from conversation import api, login, wait
from first_run import browser, by_testid
from selenium.webdriver.common.by import By

PEOPLE = ("mum", "dad", "kid", "gran")


def server_pid(base):
    """The pid of the process listening on the base URL's port (ss -ltnp)."""
    port = base.rsplit(":", 1)[1].split("/")[0]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    found = re.search(r"pid=(\d+)", out)
    return int(found.group(1)) if found else None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(base, password, shots):
    os.makedirs(shots, exist_ok=True)
    token = login(base, "mum", password)
    room = api(base, "POST", "/rooms", token, {"name": "Family", "members": ["dad", "kid", "gran"]})["room"]["id"]
    drivers = {name: browser(media=True) for name in PEOPLE}
    try:
        for name, driver in drivers.items():
            open_room(driver, base, name, password, room)
        by_testid(drivers["mum"], "call-video").click()
        for name in PEOPLE[1:]:
            wait(drivers[name], lambda d: d.find_element(By.ID, "call-incoming").is_displayed())
            assert "Family" in by_testid(drivers[name], "call-incoming").text
            by_testid(drivers[name], "call-accept").click()
            time.sleep(1)

        def meshed(driver):
            peers = stats(driver)
            return peers and len(peers) == 3 and all(p["state"] == "connected" for p in peers) and peers
        first = {name: wait(drivers[name], meshed, 90) for name in PEOPLE}
        time.sleep(3)
        for name in PEOPLE:
            later = stats(drivers[name])
            assert all(b["bytes"] > a["bytes"] > 0 for a, b in zip(first[name], later)), (name, first[name], later)
            tiles = drivers[name].find_elements(By.CSS_SELECTOR, "[data-testid=call-tile]")
            assert len(tiles) == 3, (name, len(tiles))
            print(f"{name}: 3 peers connected, receiving", [p["bytes"] for p in later], "bytes")
        by_testid(drivers["kid"], "call-layout").click()
        assert "speaker" in drivers["kid"].find_element(By.ID, "call-videos").get_attribute("class")
        assert len(drivers["kid"].find_elements(By.CSS_SELECTOR, "[data-testid=call-tile].main")) == 1
        drivers["kid"].save_screenshot(os.path.join(shots, "call-group-speaker.png"))
        drivers["mum"].save_screenshot(os.path.join(shots, "call-group-grid.png"))

        pid = server_pid(base)
        if pid:
            before, start = cpu_seconds(pid), time.monotonic()
            time.sleep(15)
            cores = (cpu_seconds(pid) - before) / (time.monotonic() - start)
            print(f"server CPU during the 4-person video call: {cores:.4f} cores ({cores * 1000:.1f} ms a second)")

        for name in ("gran", "kid", "dad"):
            by_testid(drivers[name], "call-hangup").click()
            time.sleep(0.5)
        wait(drivers["mum"], lambda d: "ended" in by_testid(d, "call-status").text)
        by_testid(drivers["mum"], "call-close").click()
        line = wait(drivers["mum"], lambda d: [m.text for m in d.find_elements(By.CSS_SELECTOR, "#messages .system")
                                               if "Video call" in m.text])
        print("everyone hung up; the group shows:", line[-1])
    finally:
        for driver in drivers.values():
            driver.quit()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
