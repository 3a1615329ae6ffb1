"""Phone numbers: numbers registered for KPN's demo webhook (`/sms/register`) and virtual numbers bought
through the carrier's Phone Numbers API. One msisdn belongs to at most one account; `service.route_for`
and `service.holds_number` answer who owns a number for the inbound intake and the send path.
"""
