"""Linking a phone in real browsers: the laptop shows a QR, the phone opens its link, the laptop approves.

Usage: link_flow.py BASE_URL USERNAME PASSWORD
Two headless Chromium instances (separate cookie jars) play the laptop and the phone.
"""

import sys

from first_run import PASSWORD, browser, by_testid, signed_in_as  # noqa: F401
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def main(base, username, password):
    laptop, phone = browser(), browser()
    try:
        laptop.get(base + "/")
        by_testid(laptop, "login-username").send_keys(username)
        by_testid(laptop, "login-password").send_keys(password)
        by_testid(laptop, "login-submit").click()
        signed_in_as(laptop, username)

        # "Link a device" is in the devices panel, behind the gear.
        laptop.find_element(By.ID, "open-settings").click()
        by_testid(laptop, "link-device").click()
        qr = by_testid(laptop, "link-qr")
        WebDriverWait(laptop, 30).until(lambda d: d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", qr))
        url = WebDriverWait(laptop, 30).until(
            EC.visibility_of_element_located((By.ID, "link-url"))).text
        assert url.startswith(base + "/link/"), url

        phone.get(url)
        name = by_testid(phone, "link-device-name")
        name.clear()
        name.send_keys("Mum's phone")
        by_testid(phone, "link-submit").click()
        WebDriverWait(phone, 30).until(EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, '[data-testid="link-status"]'), "Waiting"))

        approve = by_testid(laptop, "link-approve")
        question = laptop.find_element(By.ID, "link-question").text
        assert "Mum's phone" in question, question
        # The browser in words and the address; the whole user agent only behind "Technical details".
        words = laptop.find_element(By.ID, "link-request-device").text
        assert words.startswith("Chrome on Linux, from 127.0.0.1"), words
        assert not laptop.find_element(By.ID, "link-agent").is_displayed()
        assert "Mozilla/5.0" not in laptop.find_element(By.ID, "link-request").text
        approve.click()

        WebDriverWait(phone, 30).until(EC.url_to_be(base + "/"))
        signed_in_as(phone, username)
        WebDriverWait(laptop, 30).until(EC.text_to_be_present_in_element(
            (By.CSS_SELECTOR, '[data-testid="device-list"]'), "Mum's phone"))

        # The same link does nothing a second time.
        third = browser()
        try:
            third.get(url)
            by_testid(third, "link-submit").click()
            WebDriverWait(third, 30).until(EC.text_to_be_present_in_element(
                (By.CSS_SELECTOR, '[data-testid="link-status"]'), "already used"))
        finally:
            third.quit()

        for driver in (laptop, phone):
            errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
                      and " 401 " not in entry["message"] and "(Unauthorized)" not in entry["message"]
                      and "410" not in entry["message"]]
            assert not errors, f"browser console errors: {errors}"
    finally:
        laptop.quit()
        phone.quit()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
