"""Voice notes in real browsers, with Chromium's fake microphone (a beep): mum holds the mic
button for about two seconds and lets go; dad's browser shows a voice message with its length,
plays it (the position moves, the button says Pause), and it plays on while another message
arrives. A tap on the mic starts a recording that Cancel throws away (nothing is sent), and
Escape does too; a video sent as a file plays in the chat with the browser's own player.

Usage: voice_note.py BASE_URL PASSWORD SCREENSHOT_DIR [VIDEO_FILE]
The server has mum and dad with PASSWORD. Prints OK.
"""

import os
import sys
import time

from chat import sign_in
from conversation import api, login, wait
from first_run import browser, by_testid
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def voice_notes(driver):
    return driver.find_elements(By.CSS_SELECTOR, "[data-testid=voice-note]")


def main(base, password, shots, video=None):
    os.makedirs(shots, exist_ok=True)
    mum_token = login(base, "mum", password)
    room = api(base, "POST", "/rooms", mum_token, {"members": ["dad"], "direct": True})["room"]["id"]
    mum, dad = browser(media=True), browser(media=True)
    try:
        for driver, name in ((mum, "mum"), (dad, "dad")):
            sign_in(driver, base, name, password)
            driver.get("about:blank")
            driver.get(f"{base}/#room={room}")
            wait(driver, lambda d: d.find_element(By.ID, "chat-title").text)

        # Hold to record, let go to send.
        mic = by_testid(mum, "voice")
        ActionChains(mum).click_and_hold(mic).pause(2.2).release().perform()
        wait(mum, lambda d: len(voice_notes(d)) == 1)
        wait(dad, lambda d: len(voice_notes(d)) == 1)
        note = voice_notes(dad)[0]
        length = note.find_element(By.CSS_SELECTOR, ".clock").text
        assert length in ("0:02", "0:03"), length
        attachment = api(base, "GET", f"/rooms/{room}/messages", mum_token)["messages"][0]["attachments"][0]
        assert attachment["contentType"] in ("audio/webm", "audio/ogg"), attachment
        assert 1800 <= attachment["durationMs"] <= 4000 and attachment["size"] > 1000, attachment
        print("held 2.2 s: a voice message of", length, attachment["contentType"], attachment["size"], "bytes")

        # Dad plays it: Pause shows, the position moves, and it plays on while a message arrives.
        note.find_element(By.CSS_SELECTOR, "button.play").click()
        wait(dad, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=voice-note] button.play")
             .get_attribute("aria-label") == "Pause the voice message")
        wait(dad, lambda d: d.execute_script(
            "return document.querySelector('[data-testid=voice-note] audio').currentTime > 0.3"))
        # A quarter speed leaves the note 7 s to play rather than 2, so that a busy machine cannot
        # end it before the next message arrives; a redraw that replaced the element would reset it.
        dad.execute_script("document.querySelector('[data-testid=voice-note] audio').playbackRate = 0.25")
        by_testid(mum, "composer").send_keys("Did you hear it?", Keys.ENTER)
        wait(dad, lambda d: "Did you hear it?" in d.find_element(By.ID, "messages").text)
        position, playing, rate = dad.execute_script(
            "const audio = document.querySelector('[data-testid=voice-note] audio');"
            "return [audio.currentTime, !audio.paused, audio.playbackRate]")
        assert position > 0 and playing and rate == 0.25, (position, playing, rate)
        dad.execute_script("document.querySelector('[data-testid=voice-note] audio').playbackRate = 1")
        dad.save_screenshot(os.path.join(shots, "voice-note-playing.png"))
        wait(dad, lambda d: d.execute_script(
            "return document.querySelector('[data-testid=voice-note] audio').ended || "
            "document.querySelector('[data-testid=voice-note] button.play').textContent === '▶'"), timeout=15)
        print(f"dad played it: at {position:.2f} s when the next message came, still playing")

        # A tap starts a recording that Cancel throws away; Escape does too.
        for how in ("cancel", "escape"):
            by_testid(mum, "voice").click()
            cancel = by_testid(mum, "voice-cancel")
            time.sleep(1)
            if how == "cancel":
                cancel.click()
            else:
                ActionChains(mum).send_keys(Keys.ESCAPE).perform()
            wait(mum, lambda d: not d.find_element(By.ID, "voice-bar").is_displayed())
        time.sleep(1.5)
        assert len(voice_notes(mum)) == 1 and len(voice_notes(dad)) == 1, "a cancelled recording was sent"
        # A tap, then Send.
        by_testid(mum, "voice").click()
        time.sleep(1.2)
        by_testid(mum, "voice-send").click()
        wait(dad, lambda d: len(voice_notes(d)) == 2)
        mum.save_screenshot(os.path.join(shots, "voice-note-sent.png"))
        print("tap + Cancel, tap + Escape: nothing sent; tap + Send: sent")

        if video:
            mum.find_element(By.ID, "attach").send_keys(video)
            wait(dad, lambda d: d.find_elements(By.CSS_SELECTOR, "#messages video"))
            wait(dad, lambda d: d.execute_script(
                "const v = document.querySelector('#messages video'); return v.readyState >= 1 && v.duration > 0"))
            dad.execute_script("document.querySelector('#messages video').play()")
            wait(dad, lambda d: d.execute_script("return document.querySelector('#messages video').currentTime > 0"))
            dad.save_screenshot(os.path.join(shots, "video-inline.png"))
            print("a video plays in the chat")
        print("OK")
    finally:
        mum.quit()
        dad.quit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
