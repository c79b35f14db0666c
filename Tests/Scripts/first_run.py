"""First run in a real browser: setup link -> admin, whose first-run card makes an invite link ->
member, sign out, sign in, change the password in the settings and sign in with the new one.

Usage: first_run.py BASE_URL SETUP_TOKEN INVITE_URL
Drives headless Chromium through Selenium; run by Tests/HearthCLITests/BrowserTests.swift.
Exits non-zero with a message on the first thing that does not work as a user would expect.
"""

import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "a long family password"


def browser(media=False):
    """Headless Chromium; with `media`, a fake microphone and camera it may use without asking."""
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    if media:
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument("--use-fake-ui-for-media-stream")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def by_testid(driver, testid):
    return WebDriverWait(driver, 30).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="{testid}"]')))


def signed_in_as(driver, username):
    WebDriverWait(driver, 30).until(EC.text_to_be_present_in_element((By.ID, "me-username"), username))


def main(base, token, invite_url):
    driver = browser()
    try:
        # The setup page (shown only before the first admin) fits a phone and passes axe-core, as
        # every other page does in every_page.py.
        from every_page import Checker, goto
        with tempfile.TemporaryDirectory() as shots:
            check = Checker(shots)
            check.page(driver, "setup", goto(base, f"/setup?token={token}", '[data-testid="setup-username"]'))
        assert not check.problems, "\n".join(check.problems)

        # The admin opens the setup link the server printed.
        driver.get(f"{base}/setup?token={token}")
        by_testid(driver, "setup-username").send_keys("mum")
        by_testid(driver, "setup-password").send_keys(PASSWORD)
        by_testid(driver, "setup-submit").click()
        WebDriverWait(driver, 30).until(EC.url_to_be(f"{base}/"))
        signed_in_as(driver, "mum")

        # The new admin is told what to do next: invite the family, with the link and its QR
        # code right there, the admin panel, notifications.
        by_testid(driver, "first-run")
        by_testid(driver, "first-invite").click()
        family_url = by_testid(driver, "first-invite-url").text
        assert family_url.startswith(f"{base}/invite/"), family_url
        assert by_testid(driver, "first-invite-qr").get_attribute("src").startswith("data:image/svg+xml;base64,")
        assert driver.find_element(By.CSS_SELECTOR, '#first-run a[href="/admin"]').is_displayed()

        # The setup link is dead now.
        driver.get(f"{base}/setup?token={token}")
        WebDriverWait(driver, 30).until(EC.visibility_of_element_located((By.ID, "setup-unavailable")))
        driver.delete_all_cookies()

        # An invite made on the command line says what this is, and where, before asking for anything.
        host = base.split("//", 1)[1]
        driver.get(invite_url)
        said = by_testid(driver, "invitation").text
        assert said.startswith(f"You are invited to Hearth at {host}: a private messenger"), said

        # A family member opens mum's invite link: the code is filled in, and it says who asks.
        driver.get(family_url)
        invite = by_testid(driver, "register-invite")
        code = family_url.rsplit("/", 1)[1]
        assert invite.get_attribute("value") == code, f"invite field holds {invite.get_attribute('value')!r}"
        said = by_testid(driver, "invitation").text
        assert said.startswith(f"mum invited you to Hearth at {host}: a private messenger"), said
        by_testid(driver, "register-username").send_keys("kid")
        by_testid(driver, "register-password").send_keys(PASSWORD)
        by_testid(driver, "register-submit").click()
        signed_in_as(driver, "kid")
        assert driver.current_url == f"{base}/", driver.current_url

        # The session survives a reload (HttpOnly cookie), then ends on sign-out.
        driver.refresh()
        signed_in_as(driver, "kid")
        driver.find_element(By.ID, "open-settings").click()
        by_testid(driver, "logout").click()
        by_testid(driver, "login-username")

        # A wrong password says so; the right one signs in.
        by_testid(driver, "login-username").send_keys("kid")
        by_testid(driver, "login-password").send_keys("not the password")
        by_testid(driver, "login-submit").click()
        WebDriverWait(driver, 30).until(
            EC.text_to_be_present_in_element((By.ID, "login-error"), "Wrong username or password"))
        password = by_testid(driver, "login-password")
        password.clear()
        password.send_keys(PASSWORD)
        by_testid(driver, "login-submit").click()
        signed_in_as(driver, "kid")

        # The kid changes their password in the settings: a wrong current one is refused, then
        # the new one is what signs in.
        driver.find_element(By.ID, "open-settings").click()
        driver.find_element(By.CSS_SELECTOR, "#password-change summary").click()
        by_testid(driver, "password-current").send_keys("not the password")
        by_testid(driver, "password-new").send_keys("the kid's own new password")
        by_testid(driver, "password-submit").click()
        WebDriverWait(driver, 30).until(
            EC.text_to_be_present_in_element((By.ID, "password-result"), "not your current password"))
        current = by_testid(driver, "password-current")
        current.clear()
        current.send_keys(PASSWORD)
        by_testid(driver, "password-new").clear()
        by_testid(driver, "password-new").send_keys("the kid's own new password")
        by_testid(driver, "password-submit").click()
        WebDriverWait(driver, 30).until(
            EC.text_to_be_present_in_element((By.ID, "password-result"), "Your password is changed"))
        by_testid(driver, "logout").click()
        for testid, text in (("login-username", "kid"), ("login-password", "the kid's own new password")):
            by_testid(driver, testid).clear()
            by_testid(driver, testid).send_keys(text)
        by_testid(driver, "login-submit").click()
        signed_in_as(driver, "kid")

        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
                  and "401" not in entry["message"] and "403" not in entry["message"]]
        assert not errors, f"browser console errors: {errors}"
    finally:
        driver.quit()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
