"""The copy-paste curl session `make run` prints, and the shell variables it (and `local.stack env`) sets."""

from __future__ import annotations

import shlex
from typing import Any

from local.procs import LOOPBACK

# The demo account's virtual number: bought through the gateway's Phone Numbers API, SMS to it go to
# the signed-webhook receiver the printed session starts (`python -m local.receiver --port 8787`).
RECEIVER_PORT = 8787
DEMO_INBOUND_URL = f"http://{LOOPBACK}:{RECEIVER_PORT}/inbound"


# The shell variables the session (and README's "Try it") uses, from local.json's fields.
SESSION_VARIABLES = {
    "API": "api_url",
    "SIM": "simulator_url",
    "SIM_B": "second_simulator_url",
    "NUMBER": "number",
    "CLIENT_ID": "client_id",
    "CLIENT_SECRET": "client_secret",
    "ACCOUNT_ID": "account_id",
}
PRETTY = "python3 -m json.tool"  # not jq: README's prerequisites are curl and Python


def session_env(info: dict[str, Any]) -> str:
    """`API=… SIM=… NUMBER=…` shell assignments for what `info` (local.json) has."""
    q = shlex.quote
    return "\n".join(f"{var}={q(str(info[key]))}" for var, key in SESSION_VARIABLES.items() if info.get(key))


def curl_session(info: dict[str, Any]) -> str:
    """A copy-paste shell session against the running stack (bash; needs curl and python3)."""
    lines = [session_env(info)]
    if "client_id" in info:
        lines += [
            "",
            "# 1. a token, exactly as KPN documents it (client credentials of the demo account)",
            'TOKEN=$(curl -s -X POST "$API/oauth/client_credential/accesstoken?grant_type=client_credentials" \\',
            '  -d client_id="$CLIENT_ID" -d client_secret="$CLIENT_SECRET" \\',
            "  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            "",
            "# 2. send an SMS (accepted at once; the dispatcher hands it to the carrier simulator):",
            "#    the answer is printed, its message-id kept",
            'MESSAGE_ID=$(curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            "  -d from=SMSGW -d to=447700900000 -d text=Hello \\",
            "  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d, indent=4), file=sys.stderr); "
            'print(d["messages"][0]["message-id"])\')',
            "",
            "# 3. its status, parts, timeline and callbacks (the simulator's receipt makes it 'delivered')",
            f'curl -s "$API/messages/$MESSAGE_ID" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
            "",
            "# 4. signed status callbacks: in another terminal (in this folder), a receiver that verifies",
            "#    them with the demo account's webhook secret and prints them; then send with a callback URL",
            f".venv/bin/python -m local.receiver --port {RECEIVER_PORT}",
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            f"  -d from=SMSGW -d to=447700900000 -d text=Hello -d callback=http://{LOOPBACK}:{RECEIVER_PORT}/status",
        ]
        if info.get("number"):
            lines += [
                "",
                "# 5. receive SMS: the demo account owns the virtual number $NUMBER (bought through the Phone",
                "#    Numbers API; its moHttpUrl is the receiver of step 4). The carrier (simulator) delivers a",
                "#    long SMS to it in shuffled parts with a duplicate; the receiver prints it once, complete",
                'curl -s -X POST "$SIM/_sim/inbound" -H "Content-Type: application/json" -d \\',
                '  \'{"from":"31612345678","to":"\'"$NUMBER"\'","text":"\'"$(printf \'Yes! %.0s\' {1..40})"\'",\'\\',
                '\'"split":true,"shuffle":true,"duplicate":1}\'',
                "#    (functions start cold on their first call: if the list is still empty, ask again)",
                f'sleep 5; curl -s "$API/inbound?limit=1" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
            ]
        lines += [
            "",
            "# 6. send later: 30 s from now (answered 202, message-status 'scheduled', charged when sent);",
            "#    DELETE /messages/<id> before then cancels it",
            "SEND_AT=$(python3 -c 'import datetime as d; "
            'print((d.datetime.now(d.timezone.utc) + d.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))\')',
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            f'  -d from=SMSGW -d to=447700900000 -d "text=Your appointment is at 10:00" -d send-at=$SEND_AT | {PRETTY}',
            "",
            "# 7. a recurring notification: every minute here (try cron(0 8 * * ? *) for 08:00 daily), one",
            '#    message per recipient per run with {{placeholders}} filled; pause with PATCH {"paused": true}',
            'curl -s -X POST "$API/schedules" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
            '  -d \'{"name":"demo","recipients":[{"to":"447700900001","name":"Ann"},{"to":"447700900002","name":"Bob"}],\'\\',
            '\'"from":"SMSGW","text":"Good morning {{name}}","schedule":"rate(1 minute)","timezone":"Europe/Amsterdam"}\' | '
            + PRETTY,
            f'curl -s "$API/schedules" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
        ]
    else:
        lines += ["", "# (no demo account: `smsgw accounts create` is not available yet)"]
    lines += [
        "",
        "# 8. what the carrier simulator received, and the receipts it sent back",
        f'curl -s "$SIM/_sim/messages" | {PRETTY}',
        f'curl -s "$SIM/_sim/dlrs" | {PRETTY}',
    ]
    if info.get("second_simulator_url"):
        lines += [
            "",
            "# 9. two carriers (docs/routing.md): GB numbers (step 2) go to the default one ($SIM), NL numbers",
            "#    to the connector b ($SIM_B), each failing over to the other; ask why, then send to NL",
            ".venv/bin/smsgw --local routes test +31612345678",
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            "  -d from=SMSGW -d to=31612345678 -d text='Hello from b'",
            f'curl -s "$SIM_B/_sim/messages" | {PRETTY}',
        ]
    return "\n".join(lines)
