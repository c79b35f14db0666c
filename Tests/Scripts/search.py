"""Search in a real browser: mum finds an old message by a word, sees the word marked, opens the
chat at it (older than the history a chat first loads), and goes back to the newest messages.

Usage: search.py BASE_URL PASSWORD SCREENSHOT_DIR DATA_DIR
The server has mum and dad with PASSWORD; 110 later messages are written straight into its
database (the send limit would take a minute). Prints OK.
"""

import os
import sys

from chat import seed, sign_in, texts
from conversation import api, login, wait
from every_page import Socket
from first_run import browser, by_testid
from selenium.webdriver.common.by import By


def main(base, password, shots, data):
    os.makedirs(shots, exist_ok=True)
    mum_token = login(base, "mum", password)
    room = api(base, "POST", "/rooms", mum_token, {"members": ["dad"], "direct": True})["room"]["id"]
    dad = Socket(base, login(base, "dad", password))
    try:
        dad.send(room, "Grandma's recipe: the tomatoes go in after the garlic")
    finally:
        dad.close()
    seed(os.path.join(data, "hearth.sqlite"), room, "dad", 110)

    driver = browser()
    try:
        sign_in(driver, base, "mum", password)
        box = by_testid(driver, "search")
        box.send_keys("tomato*")
        result = by_testid(driver, "search-result")
        marked = [m.text for m in result.find_elements(By.TAG_NAME, "mark")]
        assert marked == ["tomatoes"], marked
        assert "dad" in result.text, result.text
        assert not driver.find_element(By.ID, "room-list").is_displayed(), "the chat list still shows"
        driver.save_screenshot(os.path.join(shots, "search-results.png"))

        # The result opens the chat at the message, 110 messages back, with what came after it.
        result.click()
        wait(driver, lambda d: "Grandma's recipe: the tomatoes go in after the garlic" in texts(d))
        shown = texts(driver)
        assert "bulk message 0" in shown and "bulk message 109" not in shown, shown[-3:]
        wait(driver, lambda d: d.execute_script(
            "const m = [...document.querySelectorAll('[data-testid=message]')].find(n => n.textContent.includes('tomatoes'));"
            "const r = m.getBoundingClientRect(), box = document.getElementById('messages').getBoundingClientRect();"
            "return r.top >= box.top && r.bottom <= box.bottom"))
        driver.save_screenshot(os.path.join(shots, "search-opened.png"))
        by_testid(driver, "show-newest").click()
        wait(driver, lambda d: "bulk message 109" in texts(d))

        # Nothing found says so; an unclosed quote says what to do; Escape shows the chats again.
        box = by_testid(driver, "search")
        box.clear()
        box.send_keys("zebra")
        wait(driver, lambda d: "Nothing found" in d.find_element(By.ID, "search-status").text)
        box.clear()
        box.send_keys('"garlic')
        wait(driver, lambda d: "not closed" in d.find_element(By.ID, "search-status").text)
        box.send_keys("\ue00c")  # Escape
        wait(driver, lambda d: d.find_element(By.ID, "room-list").is_displayed())
        print("OK")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:5])
