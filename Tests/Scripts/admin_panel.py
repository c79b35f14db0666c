"""The admin panel in a real browser: sign in, invite (and scan its QR), add and dry-run a rule,
disable a user, set up backups from nothing (a key, a schedule) and run one, read the audit log;
a screenshot of every page.

Usage: admin_panel.py BASE_URL USERNAME PASSWORD BACKUP_DIR KEY_OUT SCREENSHOT_DIR
BACKUP_DIR need not exist (the panel makes it); the backup key the panel makes is saved to KEY_OUT.
Drives headless Chromium through Selenium; run by Tests/HearthCLITests/BrowserTests.swift.
Exits non-zero with a message on the first thing that does not work as an admin would expect.
"""

import base64
import os
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(driver, css):
    return WebDriverWait(driver, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def expect_notice(driver, text):
    """Waits for the page an action leads to, with `text` in its notice: read through JavaScript,
    since the page that held the form may still be the one showing."""
    script = "const n = document.querySelector('.notice'); return n ? n.textContent : ''"
    try:
        WebDriverWait(driver, 30).until(lambda d: text in d.execute_script(script))
    except Exception:
        raise AssertionError(f"no notice {text!r}; the page says {driver.execute_script(script)!r}")


def submit(driver, form_action):
    driver.find_element(By.CSS_SELECTOR, f'form[action="{form_action}"] button[type=submit]').click()


def scan(data_url):
    """Reads a QR code from an <img> data URL (SVG) the way a phone would: rendered, then decoded."""
    svg = base64.b64decode(data_url.split(",", 1)[1])
    with tempfile.TemporaryDirectory() as folder:
        svg_path, png_path = os.path.join(folder, "qr.svg"), os.path.join(folder, "qr.png")
        with open(svg_path, "wb") as handle:
            handle.write(svg)
        subprocess.run(["rsvg-convert", "-w", "400", "-o", png_path, svg_path], check=True)
        out = subprocess.run(["zbarimg", "--quiet", "--raw", png_path], check=True, capture_output=True, text=True)
        return out.stdout.strip()


def main(base, username, password, backup_dir, key_out, shots):
    os.makedirs(shots, exist_ok=True)
    driver = browser()

    def shot(name):
        driver.save_screenshot(os.path.join(shots, f"{name}.png"))

    try:
        driver.get(f"{base}/admin")
        wait_for(driver, "#username").send_keys(username)
        driver.find_element(By.ID, "password").send_keys(password)
        shot("01-sign-in")
        submit(driver, "/admin/login")
        wait_for(driver, ".tiles")
        assert "Dashboard" in driver.title, driver.title
        shot("02-dashboard")

        # An invite, and its QR code scans to the link shown beside it.
        driver.get(f"{base}/admin/invites")
        uses = wait_for(driver, "#uses")
        uses.clear()
        uses.send_keys("2")
        submit(driver, "/admin/invites")
        link = wait_for(driver, "#secret-link").get_attribute("value")
        assert "/invite/" in link, link
        scanned = scan(driver.find_element(By.CSS_SELECTOR, "img.qr").get_attribute("src"))
        assert scanned == link, f"the QR code says {scanned!r}, the page says {link!r}"
        shot("03-invite-created")
        driver.get(f"{base}/admin/invites")
        assert "0 of 2" in wait_for(driver, "table").text
        shot("04-invites")

        # A rule, and the dry run shows what it does.
        driver.get(f"{base}/admin/rules")
        wait_for(driver, "#pattern").send_keys("darn")
        driver.find_element(By.CSS_SELECTOR, '#action option[value="mask"]').click()
        submit(driver, "/admin/rules")
        expect_notice(driver, "Rule #1 added")
        wait_for(driver, "#test-body").send_keys("Oh DARN it")
        submit(driver, "/admin/rules/test")
        result = wait_for(driver, ".result").text
        assert "masked" in result and "Oh *** it" in result, result
        shot("05-rules")

        # Disable a user, through the confirmation page.
        driver.get(f"{base}/admin/users/kid")
        wait_for(driver, 'a[href="/admin/users/kid/disable"]').click()
        wait_for(driver, "#reason").send_keys("lost phone")
        shot("06-confirm-disable")
        submit(driver, "/admin/users/kid/disable")
        expect_notice(driver, "Disabled kid")
        shot("07-user")

        # Backups from the panel alone: a key (downloaded once, then proven saved by its last 4
        # characters), a schedule into a folder the panel makes, a backup now.
        driver.get(f"{base}/admin/backups")
        assert "Automatic backups are off" in wait_for(driver, "main").text
        submit(driver, "/admin/backups/key")
        download = wait_for(driver, 'a[download="hearth-backup-key.txt"]').get_attribute("href")
        fetch = ("const done = arguments[arguments.length - 1];"
                 "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])))")
        status, identity_file = driver.execute_async_script(fetch, download)
        assert status == 200 and "AGE-SECRET-KEY-1" in identity_file, (status, identity_file)
        assert driver.execute_async_script(fetch, download)[0] == 404, "the key downloaded twice"
        with open(key_out, "w") as handle:
            handle.write(identity_file)
        secret = next(line for line in identity_file.splitlines() if line.startswith("AGE-SECRET-KEY-1"))
        shot("08-backup-key")
        wait_for(driver, "#ending").send_keys("ZZZZ" if not secret.endswith("ZZZZ") else "YYYY")
        submit(driver, "/admin/backups/key/confirm")
        problem = wait_for(driver, ".problem").text
        assert "not the last 4 characters" in problem, problem
        wait_for(driver, "#ending").send_keys(secret[-4:].lower())
        submit(driver, "/admin/backups/key/confirm")
        expect_notice(driver, "The key is saved")
        recipient = identity_file.split("# public key: ")[1].split()[0]
        assert wait_for(driver, "#recipients").get_attribute("value").strip() == recipient
        directory = wait_for(driver, "#directory")
        directory.clear()
        directory.send_keys(backup_dir)
        submit(driver, "/admin/backups/schedule")
        expect_notice(driver, "Schedule saved")
        assert os.path.isdir(backup_dir), "the panel did not make the backup folder"
        submit(driver, "/admin/backups/run")
        expect_notice(driver, "Backup written")
        files = [name for name in os.listdir(backup_dir) if name.endswith(".age")]
        assert len(files) == 1, files
        shot("09-backups")

        for name, path in [("10-users", "/admin/users"), ("10-devices", "/admin/devices"),
                           ("11-rooms", "/admin/rooms"), ("12-queue", "/admin/reports"),
                           ("13-audit", "/admin/audit"), ("14-settings", "/admin/settings")]:
            driver.get(base + path)
            wait_for(driver, "h1")
            shot(name)
        # The audit log reads as sentences, with names and links, never ids.
        driver.get(f"{base}/admin/audit")
        audit = wait_for(driver, "table").text
        for sentence in ("mum made an invite", "mum added rule 1", "mum disabled kid: lost phone",
                         "mum added a backup key age1", "mum made a backup to "):
            assert sentence in audit, f"{sentence!r} missing from the audit log:\n{audit}"
        assert "command line created the account kid (as a member, from the command line)" in audit, audit
        assert driver.find_element(By.LINK_TEXT, "rule 1").get_attribute("href").endswith("/admin/rules/1")

        # A phone-sized screen.
        driver.set_window_size(390, 844)
        driver.get(f"{base}/admin")
        wait_for(driver, ".tiles")
        shot("15-dashboard-phone")

        # Signing out ends the panel session.
        submit(driver, "/admin/logout")
        wait_for(driver, "#username")
        print("OK")
    finally:
        driver.quit()


if __name__ == "__main__":
    main(*sys.argv[1:7])
