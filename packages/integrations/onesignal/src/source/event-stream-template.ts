/**
 * The Event Stream body to configure in OneSignal (Data → Event Streams → New Event Stream → Body), pointing the stream
 * at `POST <runtime>/v1/sources/<id>`. Every variable is one OneSignal documents for Event Streams
 * (documentation.onesignal.com/docs/event-streams-data). Free-text message fields go through Liquid's standard
 * `escape` and `strip_newlines` filters so a quote or a line break in a message cannot break the JSON; the source
 * decodes the HTML entities `escape` writes. The README shows this same text (a test keeps the two equal).
 */
export const EVENT_STREAM_BODY_TEMPLATE = `{
  "event": {
    "kind": "{{ event.kind }}",
    "id": "{{ event.id }}",
    "timestamp": {{ event.timestamp }},
    "datetime": "{{ event.datetime }}",
    "app_id": "{{ event.app_id }}",
    "external_id": "{{ event.external_id }}",
    "subscription_id": "{{ event.subscription_id }}",
    "onesignal_id": "{{ event.onesignal_id }}",
    "subscription_device_type": "{{ event.subscription_device_type }}",
    "data": {
      "page_name": "{{ event.data.page_name | escape | strip_newlines }}",
      "page_id": "{{ event.data.page_id }}",
      "target_name": "{{ event.data.target_name | escape | strip_newlines }}",
      "target_id": "{{ event.data.target_id }}"
    }
  },
  "message": {
    "id": "{{ message.id }}",
    "name": "{{ message.name | escape | strip_newlines }}",
    "title": "{{ message.title | escape | strip_newlines }}",
    "contents": "{{ message.contents | escape | strip_newlines }}",
    "template_id": "{{ message.template_id }}"
  },
  "subscription": {
    "language": "{{ subscription.language }}"
  }
}`
