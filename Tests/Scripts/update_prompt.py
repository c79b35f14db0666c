"""The installable app's "new version" prompt, in a real browser: a page whose service worker is
in control learns of a new build (a different sw.js), says "A new version of Hearth is ready",
and its Reload button puts the new worker in charge, reloads the page, and leaves only the new
build's cache.

A new build is made by nginx in front of hearth: once the test creates a flag file, nginx serves
sw.js with a different VERSION, as a new hearth binary would.

Usage: update_prompt.py HEARTH_BINARY DATA_DIR PASSWORD SCREENSHOT_DIR
DATA_DIR holds mum with PASSWORD. Prints OK.
"""

import os
import subprocess
import sys
import tempfile

from chat import sign_in
from first_run import browser, by_testid
from pwa import wait
from selenium.webdriver.common.by import By
from serve import free_port, start


def nginx_config(directory, port, upstream):
    flag = os.path.join(directory, "next")
    return f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {directory};
    proxy_temp_path {directory};
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $http_connection;
        }}
        location = /sw.js {{
            if (-f {flag}) {{ rewrite ^ /next-sw.js last; }}
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
        }}
        location = /next-sw.js {{
            internal;
            proxy_pass {upstream}/sw.js;
            proxy_set_header Host $http_host;
            proxy_set_header Accept-Encoding "";
            proxy_set_header If-None-Match "";
            proxy_hide_header ETag;
            sub_filter_types text/javascript;
            sub_filter "const VERSION = '" "const VERSION = 'next-";
        }}
    }}
}}
"""


def cache_names(driver):
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; caches.keys().then(done);")


def main(binary, data, password, shots):
    os.makedirs(shots, exist_ok=True)
    directory = tempfile.mkdtemp()
    server, upstream = start(binary, data)
    port = free_port()
    config = os.path.join(directory, "nginx.conf")
    with open(config, "w") as handle:
        handle.write(nginx_config(directory, port, upstream))
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", config, "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    driver = browser()
    try:
        sign_in(driver, base, "mum", password)
        # The first worker takes control (reloading once makes sure this page is its client).
        wait(driver, lambda d: d.execute_script("return Boolean(navigator.serviceWorker.controller)") or
             d.refresh())
        wait(driver, lambda d: d.execute_script("return Boolean(navigator.serviceWorker.controller)"))
        before = cache_names(driver)
        assert len(before) == 1 and before[0].startswith("hearth-shell-"), before
        assert driver.find_element(By.ID, "update-banner").get_attribute("hidden") is not None

        # A new build: the browser finds it when it checks (on its own at the next visit; now, here).
        open(os.path.join(directory, "next"), "w").close()
        driver.execute_script("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        banner = by_testid(driver, "update-banner")
        assert "A new version of Hearth is ready" in banner.text, banner.text
        driver.save_screenshot(os.path.join(shots, "update-prompt.png"))
        print("a new sw.js: the page offers the new version")

        # Reload: the new worker takes over, the page reloads, the old build's cache is gone.
        driver.execute_script("window.beforeUpdate = true")
        driver.find_element(By.ID, "update-reload").click()
        wait(driver, lambda d: d.execute_script("return window.beforeUpdate === undefined"))
        wait(driver, lambda d: cache_names(d) == [before[0].replace("hearth-shell-", "hearth-shell-next-")])
        wait(driver, lambda d: d.find_element(By.ID, "update-banner").get_attribute("hidden") is not None)
        wait(driver, lambda d: d.find_element(By.ID, "signed-in").is_displayed())
        print("Reload: the new worker is in charge, the page reloaded, caches", cache_names(driver))
        print("OK")
    finally:
        driver.quit()
        nginx.terminate()
        nginx.wait()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
