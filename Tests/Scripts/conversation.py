"""Replies, reactions, edits, deletions, reports and live groups in real browsers: A (mum), B (dad).

Usage: conversation.py BASE_URL PASSWORD SCREENSHOT_DIR
Covers, each seen live on the other browser without a reload: a group created through the API
appearing in B's list, a reply quoting the message it answers, a reaction under a bubble (from
the menu's quick reactions, the emoji picker after a long press with a finger, and any emoji
typed after a right click), an edit ("edited"), a deletion ("Message deleted"), a held message
that, once approved, is one bubble for its sender and appears for the other, a rename and an
added member as system lines; a report from B's message menu reaching the review queue; presence
right after sign-in.
Screenshots at desktop and phone sizes. Prints OK.
"""

import json
import os
import sys
import urllib.request

from chat import connection, send, sign_in, status_of, texts
from first_run import browser, by_testid
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait


def wait(driver, condition, timeout=30):
    """Waits for `condition`; the message list re-renders as frames arrive, so an element that
    went stale (or is not there yet) just means "look again"."""
    ignored = (StaleElementReferenceException, NoSuchElementException, AttributeError)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def api(base, method, path, token, body=None):
    request = urllib.request.Request(
        base + "/api/v1" + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", "Bearer " + token)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def login(base, username, password):
    request = urllib.request.Request(
        base + "/api/v1/login", method="POST",
        data=json.dumps({"username": username, "password": password}).encode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["token"]


def bubble(driver, text):
    """The bubble whose body is `text` (the last one), as a WebElement."""
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=message]')]"
        ".filter(n => n.querySelector('.body')?.textContent === arguments[0]).at(-1) || null", text)


def menu(driver, text, action):
    """Opens the message menu of the bubble saying `text` and clicks `action` (a testid). The
    list re-renders as frames arrive, so finding and clicking the bubble's button is retried."""
    def open_menu(d):
        try:
            bubble(d, text).find_element(By.CSS_SELECTOR, '[data-testid="message-menu"]').click()
            return True
        except (StaleElementReferenceException, NoSuchElementException, AttributeError):
            return False
    wait(driver, open_menu)
    by_testid(driver, action).click()


def long_press(driver, element):
    """A finger held on `element` for 0.8 s, as on a phone."""
    actions = ActionBuilder(driver, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    actions.pointer_action.move_to(element).pointer_down().pause(0.8).pointer_up()
    actions.perform()


def reactions_of(driver, text):
    return [chip.text for chip in bubble(driver, text).find_elements(By.CSS_SELECTOR, ".reactions .reaction")]


def system_lines(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=system-line]')].map(n => n.textContent)")


def main(base, password, shots):
    os.makedirs(shots, exist_ok=True)
    mum_token = login(base, "mum", password)
    a, b = browser(), browser()
    try:
        sign_in(a, base, "mum", password)
        sign_in(b, base, "dad", password)
        wait(a, lambda d: connection(d) == "online")
        wait(b, lambda d: connection(d) == "online")

        # A group made elsewhere shows up in both lists at once, without a reload.
        room = api(base, "POST", "/rooms", mum_token, {"name": "Family", "members": ["dad"]})["room"]["id"]
        for driver in (a, b):
            wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-room-id="{room}"]'))
            driver.find_element(By.CSS_SELECTOR, f'[data-room-id="{room}"]').click()
        # Presence is right as soon as both are in: the group header shows the other online.
        wait(a, lambda d: "dad ●" in d.find_element(By.ID, "chat-members").text)

        send(a, "Dinner at 7?")
        wait(b, lambda d: "Dinner at 7?" in texts(d))

        # B replies to it: A sees the quote, and clicking it finds the original.
        menu(b, "Dinner at 7?", "action-reply")
        send(b, "Yes please")
        wait(a, lambda d: "Yes please" in texts(d))
        quote = wait(a, lambda d: bubble(d, "Yes please").find_elements(By.CSS_SELECTOR, ".quote"))
        assert "Dinner at 7?" in quote[0].text, quote[0].text

        # B reacts; A sees the reaction under the bubble, with who reacted.
        menu(b, "Dinner at 7?", "react-👍")
        chip = wait(a, lambda d: bubble(d, "Dinner at 7?").find_elements(By.CSS_SELECTOR, ".reaction"))
        assert chip[0].text.startswith("👍 1") and chip[0].get_attribute("title") == "dad", chip[0].text

        # A holds a finger on B's reply: the menu opens; "+" opens the picker; 🎉 reaches B.
        long_press(a, bubble(a, "Yes please").find_element(By.CSS_SELECTOR, ".body"))
        by_testid(a, "react-more").click()
        by_testid(a, "emoji-picker").find_element(By.CSS_SELECTOR, '[data-emoji="🎉"]').click()
        wait(b, lambda d: "🎉 1" in reactions_of(d, "Yes please"))
        # B right-clicks it and types an emoji the picker does not list; two letters are refused.
        ActionChains(b).context_click(bubble(b, "Yes please").find_element(By.CSS_SELECTOR, ".body")).perform()
        by_testid(b, "react-more").click()
        typed = by_testid(b, "emoji-input")
        typed.send_keys("ab")
        typed.submit()
        wait(b, lambda d: "single emoji" in by_testid(d, "emoji-picker").text)
        b.execute_script("arguments[0].value = '🦔'", typed)
        typed.submit()
        wait(a, lambda d: "🦔 1" in reactions_of(d, "Yes please"))
        # The picker remembers it: B's next picker starts with it under "Recently used".
        menu(b, "Yes please", "react-more")
        assert "Recently used" in by_testid(b, "emoji-picker").text
        b.save_screenshot(os.path.join(shots, "emoji-picker-desktop.png"))
        ActionChains(b).send_keys(Keys.ESCAPE).perform()
        wait(b, lambda d: not d.find_elements(By.ID, "message-actions"))

        # A edits the question; B sees the new text, marked edited, and the quote follows it.
        menu(a, "Dinner at 7?", "action-edit")
        composer = by_testid(a, "composer")
        composer.clear()
        composer.send_keys("Dinner at 8?")
        by_testid(a, "send").click()
        wait(b, lambda d: "Dinner at 8?" in texts(d) and "Dinner at 7?" not in texts(d))
        meta = bubble(b, "Dinner at 8?").find_element(By.CSS_SELECTOR, ".meta").text
        assert meta.startswith("edited"), meta
        wait(b, lambda d: "Dinner at 8?" in bubble(d, "Yes please").find_element(By.CSS_SELECTOR, ".quote").text)
        # The device that made the change shows it too (it gets the ack, not the event).
        wait(a, lambda d: "Dinner at 8?" in texts(d) and "Dinner at 7?" not in texts(d))

        # A deletes a message for everyone; B sees "Message deleted" in its place.
        send(a, "oops, wrong chat")
        wait(b, lambda d: "oops, wrong chat" in texts(d))
        a.execute_script("window.confirm = () => true")
        menu(a, "oops, wrong chat", "action-delete")
        wait(b, lambda d: "oops, wrong chat" not in texts(d) and "Message deleted" in texts(d))
        wait(a, lambda d: "oops, wrong chat" not in texts(d) and "Message deleted" in texts(d))

        # A's message info: dad has read it (the group's ticks are blue only once everyone has).
        wait(a, lambda d: status_of(d, "Dinner at 8?") == "read")
        menu(a, "Dinner at 8?", "action-info")
        wait(a, lambda d: "Read by: dad" in by_testid(d, "message-info").text)
        a.find_element(By.ID, "composer").click()

        # B mentions A with the suggestions: A sees the mention highlighted as theirs.
        by_testid(b, "composer").send_keys("@mu")
        by_testid(b, "mention-option").click()
        assert by_testid(b, "composer").get_attribute("value") == "@mum ", by_testid(b, "composer").get_attribute("value")
        by_testid(b, "composer").send_keys("see you at 8")
        by_testid(b, "send").click()
        wait(a, lambda d: bubble(d, "@mum see you at 8").find_elements(By.CSS_SELECTOR, ".mention.mine"))

        # A message a rule blocks says why, and goes back into the composer to change and resend.
        api(base, "POST", "/admin/rules", mum_token, {"kind": "word", "pattern": "forbidden", "action": "block"})
        send(b, "a forbidden word")
        wait(b, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="resend"]'))
        b.find_element(By.CSS_SELECTOR, '[data-testid="resend"]').click()
        wait(b, lambda d: by_testid(d, "composer").get_attribute("value") == "a forbidden word")
        assert "a forbidden word" not in texts(b), texts(b)
        by_testid(b, "composer").clear()

        # A message a rule holds says so in words; once a moderator approves it, B's bubble is the
        # one message (not a second copy) and A gets it.
        api(base, "POST", "/admin/rules", mum_token, {"kind": "word", "pattern": "homework", "action": "hold"})
        send(b, "homework first")
        wait(b, lambda d: "Waiting for a moderator" in bubble(d, "homework first").text)
        gran = login(base, "gran", password)
        held = [item for item in api(base, "GET", "/admin/queue", gran)["items"]
                if (item.get("message") or {}).get("body") == "homework first"]
        assert len(held) == 1 and held[0]["held"], held
        assert "homework first" not in texts(a), texts(a)
        api(base, "POST", f"/admin/queue/{held[0]['id']}/approve", gran, {})
        wait(a, lambda d: "homework first" in texts(d))
        wait(b, lambda d: "Waiting for a moderator" not in bubble(d, "homework first").text)
        assert texts(b).count("homework first") == 1, texts(b)

        # B reports A's message from the menu: it reaches the review queue.
        b.execute_script("window.prompt = () => 'not nice'")
        menu(b, "Dinner at 8?", "action-report")
        wait(b, lambda d: "Reported" in d.find_element(By.ID, "attach-status").text)

        # A renames the group and adds the kid in its settings: B sees both live, as lines in the
        # timeline. B, not a group admin, sees no way to rename or add.
        by_testid(a, "group-settings").click()
        name = by_testid(a, "group-name")
        name.clear()
        name.send_keys("Home")
        by_testid(a, "group-rename").click()
        wait(b, lambda d: d.find_element(By.ID, "chat-title").text == "Home")
        by_testid(a, "group-add-name").send_keys("kid")
        by_testid(a, "group-add").click()
        wait(b, lambda d: "mum added kid" in system_lines(d))
        assert "mum renamed the group to “Home”" in system_lines(b), system_lines(b)
        wait(a, lambda d: len(d.find_elements(By.CSS_SELECTOR, '#group-members li')) == 3)
        by_testid(b, "group-settings").click()
        assert not b.find_element(By.ID, "group-add").is_displayed()
        b.find_element(By.ID, "close-group").click()

        # A removes the kid: B sees the line and the header's members change.
        a.execute_script("window.confirm = () => true")
        a.find_element(By.CSS_SELECTOR, '#group-members li[data-username="kid"] [data-testid="group-remove"]').click()
        wait(b, lambda d: "mum removed kid" in system_lines(d))
        wait(b, lambda d: "kid" not in d.find_element(By.ID, "chat-members").text)
        a.save_screenshot(os.path.join(shots, "group-settings-desktop.png"))
        a.find_element(By.ID, "close-group").click()

        # An admin finds the admin panel from the chat's settings; a member does not.
        a.find_element(By.ID, "open-settings").click()
        assert by_testid(a, "admin-link").get_attribute("href").endswith("/admin")
        a.find_element(By.ID, "close-settings").click()
        b.find_element(By.ID, "open-settings").click()
        wait(b, lambda d: d.find_element(By.ID, "settings").is_displayed())
        assert not b.find_element(By.ID, "admin-link-row").is_displayed()
        b.find_element(By.ID, "close-settings").click()

        a.set_window_size(1280, 900)
        a.save_screenshot(os.path.join(shots, "conversation-desktop.png"))
        b.set_window_size(390, 844)
        b.save_screenshot(os.path.join(shots, "conversation-phone.png"))
        # On a phone the menu opens from a finger held on the bubble, and fits the screen.
        long_press(b, bubble(b, "Yes please").find_element(By.CSS_SELECTOR, ".body"))
        b.save_screenshot(os.path.join(shots, "menu-phone.png"))
        by_testid(b, "react-more").click()
        picker = by_testid(b, "emoji-picker")
        assert picker.rect["x"] >= 0 and picker.rect["x"] + picker.rect["width"] <= 390, picker.rect
        b.save_screenshot(os.path.join(shots, "emoji-picker-phone.png"))
        queue = api(base, "GET", "/admin/queue", login(base, "gran", password))
        assert any(item["reason"] == "reported" for item in queue["items"]), queue
        print("OK")
    finally:
        a.quit()
        b.quit()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
