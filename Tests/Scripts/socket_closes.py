"""Opens a Hearth WebSocket and prints the close code the server sends.

Usage: socket_closes.py WS_URL TOKEN READY_FILE
Writes READY_FILE once connected, then waits (at most 20 s) for the server to close the socket.
"""

import sys

import websocket

url, token, ready = sys.argv[1:4]
ws = websocket.create_connection(url, header=[f"Authorization: Bearer {token}"], timeout=20)
open(ready, "w").close()
while True:
    opcode, frame = ws.recv_data_frame(control_frame=True)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        print(int.from_bytes(frame.data[:2], "big"))
        break
