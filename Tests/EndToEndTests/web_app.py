"""The web app in a real browser (Debian's chromium, driven by Playwright), for EndToEndTests.

usage: web_app.py GATEWAY_URL SCREENSHOT_DIR
Three people in three browser contexts (three cookie jars): Ada and Bob sign up, Ada
invites Bob, Bob accepts, Ada opens their chat; each sees the other online and typing,
they chat both ways, Ada sends a picture, edits and deletes a message; Ada's socket is cut
and recovers the message Bob sent meanwhile; Eve, a stranger, sees none of it. Screenshots
of the main screens go to SCREENSHOT_DIR. Prints {passed: [...], failed: [...]} as JSON.
"""
import base64
import json
import os
import shutil
import sys
import time
import uuid
import zlib

from playwright.sync_api import expect, sync_playwright

url, shots = sys.argv[1], sys.argv[2]
os.makedirs(shots, exist_ok=True)
report = {"passed": [], "failed": []}
expect.set_options(timeout=10_000)


def check(name, body):
    try:
        body()
        report["passed"].append(name)
    except Exception as error:  # noqa: BLE001 - every failure is reported, with its step
        report["failed"].append(f"{name}: {str(error)[:600]}")


def png(width=24, height=16):
    """A small real PNG (blue), for the file upload."""
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    rows = b"".join(b"\x00" + b"\x20\x60\xe0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


run = uuid.uuid4().hex[:8]
people = {name: {"email": f"{name.lower()}.{run}@example.com", "first": name, "last": "Tester"} for name in ("Ada", "Bob", "Eve")}

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
    pages = {}
    for name in people:
        context = browser.new_context(viewport={"width": 1100, "height": 720})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept(dialog.default_value + " (edited)" if dialog.type == "prompt" else None))
        pages[name] = page
    ada, bob, eve = pages["Ada"], pages["Bob"], pages["Eve"]

    def sign_up(name):
        page, who = pages[name], people[name]
        page.goto(url + "/app/")
        form = page.locator("#signup")
        form.locator("[name=firstName]").fill(who["first"])
        form.locator("[name=lastName]").fill(who["last"])
        form.locator("[name=emailId]").fill(who["email"])
        form.locator("[name=password]").fill("correct horse 42")
        if name == "Ada":
            page.screenshot(path=os.path.join(shots, "sign-up.png"))
        form.locator("button").click()
        expect(page.locator("#me")).to_have_text(f"{who['first']} {who['last']}")
        expect(page.locator("#connection")).to_have_text("connected")

    for name in people:
        check(f"{name} signs up and is signed in by cookie, the socket connected", lambda name=name: sign_up(name))
        time.sleep(1.1)  # the shipped gateway.conf allows one signup a second per client

    def invite_and_accept():
        ada.locator("#invite [name=toEmail]").fill(people["Bob"]["email"])
        ada.locator("#invite button").click()
        expect(ada.locator("#invites-sent")).to_contain_text("Bob Tester — pending")
        bob.reload()
        bob.locator("#invites-received li", has_text="Ada Tester").get_by_role("button", name="Accept").click()
        expect(bob.locator("#invites-received")).to_contain_text("Ada Tester — accepted")
    check("Ada invites Bob by email, Bob accepts", invite_and_accept)

    def open_chat():
        ada.reload()
        ada.locator("#invites-sent li", has_text="Bob Tester").get_by_role("button", name="Chat").click()
        expect(ada.locator("#chat-title")).to_have_text("Bob Tester")
        bob.reload()
        bob.locator("#chats li", has_text="Ada Tester").click(timeout=15_000)
        expect(bob.locator("#chat-title")).to_have_text("Ada Tester")
        for page in (ada, bob):  # both sockets in the chat's room
            expect(page.locator("#chat[data-joined]")).to_have_count(1)
    check("Ada opens the direct chat, Bob finds it in his list", open_chat)

    check("each sees the other online", lambda: (
        expect(ada.locator("#chats li", has_text="Bob Tester").locator(".dot")).to_have_class("dot online"),
        expect(bob.locator("#chats li", has_text="Ada Tester").locator(".dot")).to_have_class("dot online")))

    def typing():
        ada.locator("#text").press_sequentially("hel")
        expect(bob.locator("#typing")).to_have_text("Ada Tester is typing…")
    check("Bob sees Ada typing", typing)

    def chat_both_ways():
        ada.locator("#text").fill("hello Bob")
        ada.locator("#composer button").click()
        expect(bob.locator("#messages li", has_text="hello Bob")).to_be_visible()
        expect(bob.locator("#typing")).to_have_text("")
        bob.locator("#text").fill("hi Ada!")
        bob.locator("#composer button").click()
        expect(ada.locator("#messages li", has_text="hi Ada!")).to_be_visible()
    check("they chat live both ways", chat_both_ways)

    def picture():
        ada.locator("#file").set_input_files({"name": "blue.png", "mimeType": "image/png", "buffer": png()})
        ada.locator("#composer button").click()
        image = bob.locator("#messages img[alt='blue.png']")
        expect(image).to_be_visible()
        if image.evaluate("img => img.naturalWidth") != 24:
            raise AssertionError("the picture did not load in Bob's browser")
    check("Ada sends a picture; Bob sees it", picture)

    def edit_and_delete():
        ada.locator("#messages li", has_text="hello Bob").get_by_role("button", name="Edit").click()
        expect(bob.locator("#messages li", has_text="hello Bob (edited)")).to_be_visible()
        ada.locator("#messages li", has_text="hello Bob (edited)").get_by_role("button", name="Delete").click()
        expect(bob.locator("#messages li", has_text="hello Bob")).to_have_count(0)
        if bob.locator("#messages li.mine .edit").count() != 1:
            raise AssertionError("Bob can edit only his own message")
    check("Ada edits and deletes her message; Bob's page follows", edit_and_delete)

    def recovery():
        ada.evaluate("window.switchboard.socket.io.engine.close()")
        bob.locator("#text").fill("while you were away")
        bob.locator("#composer button").click()
        expect(ada.locator("#connection")).to_have_attribute("data-recovered", "true", timeout=15_000)
        expect(ada.locator("#messages li", has_text="while you were away")).to_have_count(1)
    check("Ada's connection is cut; it recovers with what Bob said meanwhile", recovery)
    ada.screenshot(path=os.path.join(shots, "chat.png"))

    def outsider():
        expect(eve.locator("#chats li")).to_have_count(0)
        chat_id = ada.evaluate("document.querySelector('#chats li.open').dataset.chat")
        status = eve.evaluate(f"fetch('/chat/messages/{chat_id}').then(r => r.status)")
        if status != 404:
            raise AssertionError(f"Eve read the chat: {status}")
        expect(eve.locator("#messages li")).to_have_count(0)
    check("Eve, a stranger, sees nothing of it", outsider)
    bob.screenshot(path=os.path.join(shots, "chat-other-side.png"))
    browser.close()

print(json.dumps(report))
