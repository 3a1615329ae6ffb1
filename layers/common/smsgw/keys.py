"""Every key of the one DynamoDB table (single-table design; docs/data-model.md describes the items).

The repositories build their keys only here, so this table is every format the table holds:

  pk                                                 sk                  item
  ACCOUNT#<account_id>                               ACCOUNT             account
  CLIENT#<client_id>                                 CLIENT              client_id → account_id
  APIKEY#<api_key>                                   APIKEY              api_key → account_id
  TOKEN#<sha256(token)>                              TOKEN               access token
  VSIG#<account_id>#<sig>                            VSIG                used /sms/json signature
  MSG#<message_id>                                   MSG                 message
  IDEMKEY#<account_id>#<sha256(key)>                 IDEMKEY             claimed Idempotency-Key
  SPEND#<account_id>#<YYYY-MM-DD>                    SPEND               an account's spend that UTC day (cap)
  VELOCITY#<account_id>#<prefix>#<window start>      VELOCITY            sends to a number range in a window
  CARRIER#<carrier_message_id>                       CARRIER             carrier id → message, part
  DLRPENDING#<carrier_message_id>                    PENDING             receipts that overtook dispatch
  PACER#<provider>                                   PACER               carrier pacer
  BREAKER#<connector>                                BREAKER             connector circuit breaker
  CONFIG#CONNECTOR                                   <name>              carrier connector
  CONFIG#ROUTE                                       <route_id>          route
  SCHEDULE#<schedule_id>                             SCHEDULE            recurring schedule
  SUBJECT#<subject_id>                               WEBHOOK#<delivery_id>  webhook delivery
  WEBHOOK#<delivery_id>                              LOOKUP              webhook id → subject (and its dedupe)
  NUMBER#<msisdn>                                    NUMBER              phone number
  VERIFY#<account_id>#<msisdn>                       VERIFY              phone possession check
  INBOUND_PART#<carrier messageId>                   PART                inbound part seen
  CONCAT#<msisdn>#<to>#<concat-ref>                  SET                 concatenated set's header
  CONCAT#<msisdn>#<to>#<concat-ref>                  PART#<nnn>          one part of the set (3 digits)
  INBOUND#<inbound_id>                               INBOUND             inbound message
  AUTOREPLY#<inbound_id>                             SENT                auto-reply sent
  AUTOREPLY#<number>#<msisdn>#<YYYY-MM-DD>           COUNT               auto-replies to a recipient that day
  AUTOREPLY#<number>#<YYYY-MM-DD>                    COUNT               auto-replies from a number that day
  CONVO#<msisdn>#<number>                            CONVO               conversation (replies → callback)
  OPTOUT#<number>#<msisdn>                           OPTOUT              opt-out

  gsi1pk                                             gsi1sk              item
  ACCOUNT#<account_id>#MSG                           <message_id>        message
  ACCOUNT#<account_id>#SCHEDULE                      <schedule_id>       schedule
  ACCOUNT#<account_id>#NUMBER                        <msisdn>            owned number
  ACCOUNT#<account_id>#REGISTERED                    <msisdn>            registered number
  ACCOUNT#<account_id>#INBOUND                       <inbound_id>        routed inbound message
  INBOUND#UNROUTED                                   <inbound_id>        unrouted inbound message
  WEBHOOK#FAILED                                     <failed_at>#<delivery_id>  failed webhook delivery (sparse)

A stored key never changes format: tests/unit/test_keys.py pins each one.
"""

from __future__ import annotations

from typing import Final

Key = dict[str, str]

# --- accounts ----------------------------------------------------------------------------------------


def account(account_id: str) -> Key:
    """The account item."""
    return {"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"}


def client(client_id: str) -> Key:
    """The client_id → account_id lookup item."""
    return {"pk": f"CLIENT#{client_id}", "sk": "CLIENT"}


def api_key(key: str) -> Key:
    """The api_key → account_id lookup item."""
    return {"pk": f"APIKEY#{key}", "sk": "APIKEY"}


def token(token_hash: str) -> Key:
    """The access token item (by the token's sha256)."""
    return {"pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}


def signature(account_id: str, sig: str) -> Key:
    """The used /sms/json signature item."""
    return {"pk": f"VSIG#{account_id}#{sig}", "sk": "VSIG"}


# --- messages ----------------------------------------------------------------------------------------


def message(message_id: str) -> Key:
    """The message item."""
    return {"pk": f"MSG#{message_id}", "sk": "MSG"}


def messages_index(account_id: str) -> str:
    """The gsi1pk of an account's message items (gsi1sk: the message id)."""
    return f"ACCOUNT#{account_id}#MSG"


def idempotency_key(account_id: str, key_hash: str) -> Key:
    """The claimed Idempotency-Key item (by the key's sha256)."""
    return {"pk": f"IDEMKEY#{account_id}#{key_hash}", "sk": "IDEMKEY"}


def day_spend(account_id: str, day: str) -> Key:
    """The day's spend item: what an account was charged on one UTC day (`YYYY-MM-DD`), for its cap."""
    return {"pk": f"SPEND#{account_id}#{day}", "sk": "SPEND"}


def velocity(account_id: str, prefix: str, window_start: int) -> Key:
    """The velocity counter item: an account's sends to one number prefix in one window (unix start)."""
    return {"pk": f"VELOCITY#{account_id}#{prefix}#{window_start}", "sk": "VELOCITY"}


def carrier(carrier_message_id: str) -> Key:
    """The carrier id lookup item (carrier message id → message id and part)."""
    return {"pk": f"CARRIER#{carrier_message_id}", "sk": "CARRIER"}


PENDING_RECEIPTS_PREFIX: Final = "DLRPENDING#"


def pending_receipts(carrier_message_id: str) -> Key:
    """The early receipts item (receipts for a carrier id not recorded yet)."""
    return {"pk": f"{PENDING_RECEIPTS_PREFIX}{carrier_message_id}", "sk": "PENDING"}


def pacer(name: str) -> Key:
    """The carrier pacer item."""
    return {"pk": f"PACER#{name}", "sk": "PACER"}


def breaker(name: str) -> Key:
    """A connector's circuit breaker."""
    return {"pk": f"BREAKER#{name}", "sk": "BREAKER"}


# --- routing -----------------------------------------------------------------------------------------

CONNECTORS: Final = "CONFIG#CONNECTOR"
ROUTES: Final = "CONFIG#ROUTE"


def connector(name: str) -> Key:
    """A carrier connector (the partition holds them all: one Query lists them)."""
    return {"pk": CONNECTORS, "sk": name}


def route(route_id: str) -> Key:
    """A route (the partition holds them all)."""
    return {"pk": ROUTES, "sk": route_id}


# --- schedules ---------------------------------------------------------------------------------------


def schedule(schedule_id: str) -> Key:
    """The schedule item."""
    return {"pk": f"SCHEDULE#{schedule_id}", "sk": "SCHEDULE"}


def schedules_index(account_id: str) -> str:
    """The gsi1pk of an account's schedule items (gsi1sk: the schedule id)."""
    return f"ACCOUNT#{account_id}#SCHEDULE"


# --- webhooks ----------------------------------------------------------------------------------------

WEBHOOK_DELIVERY_PREFIX: Final = "WEBHOOK#"
FAILED_WEBHOOKS_INDEX: Final = "WEBHOOK#FAILED"


def subject(subject_id: str) -> str:
    """The pk of a subject's webhook delivery items (their sk starts with WEBHOOK_DELIVERY_PREFIX)."""
    return f"SUBJECT#{subject_id}"


def webhook_delivery(subject_id: str, delivery_id: str) -> Key:
    """The webhook delivery item."""
    return {"pk": subject(subject_id), "sk": f"{WEBHOOK_DELIVERY_PREFIX}{delivery_id}"}


def failed_webhook_sort(failed_at: str, delivery_id: str) -> str:
    """The gsi1sk of a failed webhook delivery item (gsi1pk: FAILED_WEBHOOKS_INDEX)."""
    return f"{failed_at}#{delivery_id}"


# Delivery ids are made of (account, dedupe key) (webhooks.service.delivery_id_for): the lookup is the dedupe.
def webhook_lookup(delivery_id: str) -> Key:
    """The webhook id lookup item (delivery id → subject)."""
    return {"pk": f"WEBHOOK#{delivery_id}", "sk": "LOOKUP"}


# --- numbers -----------------------------------------------------------------------------------------


def number(msisdn: str) -> Key:
    """The number item (registered or owned)."""
    return {"pk": f"NUMBER#{msisdn}", "sk": "NUMBER"}


def owned_numbers_index(account_id: str) -> str:
    """The gsi1pk of an account's owned number items (gsi1sk: the msisdn)."""
    return f"ACCOUNT#{account_id}#NUMBER"


def registered_numbers_index(account_id: str) -> str:
    """The gsi1pk of an account's registered number items (gsi1sk: the msisdn)."""
    return f"ACCOUNT#{account_id}#REGISTERED"


def verification(account_id: str, msisdn: str) -> Key:
    """The phone possession check item (a code sent to a phone before it is registered)."""
    return {"pk": f"VERIFY#{account_id}#{msisdn}", "sk": "VERIFY"}


# --- inbound -----------------------------------------------------------------------------------------

CONCAT_SET_SK: Final = "SET"
CONCAT_PART_PREFIX: Final = "PART#"
UNROUTED_INBOUND_INDEX: Final = "INBOUND#UNROUTED"


def inbound_part(carrier_message_id: str) -> Key:
    """The inbound part seen item (dedupe of carrier resends)."""
    return {"pk": f"INBOUND_PART#{carrier_message_id}", "sk": "PART"}


def concat(msisdn: str, to: str, ref: str) -> str:
    """The pk of a concatenated set's items (its header and its parts)."""
    return f"CONCAT#{msisdn}#{to}#{ref}"


def concat_set(msisdn: str, to: str, ref: str) -> Key:
    """The concatenated set's header item."""
    return {"pk": concat(msisdn, to, ref), "sk": CONCAT_SET_SK}


def concat_part(msisdn: str, to: str, ref: str, part: int) -> Key:
    """One part item of a concatenated set (part numbers padded to 3 digits, so they sort)."""
    return {"pk": concat(msisdn, to, ref), "sk": f"{CONCAT_PART_PREFIX}{part:03d}"}


def inbound(inbound_id: str) -> Key:
    """The inbound message item."""
    return {"pk": f"INBOUND#{inbound_id}", "sk": "INBOUND"}


def inbound_index(account_id: str) -> str:
    """The gsi1pk of an account's (routed) inbound message items (gsi1sk: the inbound id)."""
    return f"ACCOUNT#{account_id}#INBOUND"


def auto_reply_sent(inbound_id: str) -> Key:
    """The auto-reply sent item (HELP answered once per inbound message)."""
    return {"pk": f"AUTOREPLY#{inbound_id}", "sk": "SENT"}


def auto_reply_recipient_count(number: str, msisdn: str, day: str) -> Key:
    """The auto-reply counter item of one recipient and number for a day (YYYY-MM-DD)."""
    return {"pk": f"AUTOREPLY#{number}#{msisdn}#{day}", "sk": "COUNT"}


def auto_reply_number_count(number: str, day: str) -> Key:
    """The auto-reply counter item of one number for a day (YYYY-MM-DD)."""
    return {"pk": f"AUTOREPLY#{number}#{day}", "sk": "COUNT"}


# --- opt-outs and conversations ----------------------------------------------------------------------


def conversation(msisdn: str, number: str) -> Key:
    """The conversation item (a send with `inbound: yes`: the recipient's replies go to its callback)."""
    return {"pk": f"CONVO#{msisdn}#{number}", "sk": "CONVO"}


def opt_out(number: str, msisdn: str) -> Key:
    """The opt-out item (the recipient sent STOP to this number)."""
    return {"pk": f"OPTOUT#{number}#{msisdn}", "sk": "OPTOUT"}
