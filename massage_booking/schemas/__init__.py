"""The JSON API's contract, declared once: typed request and response models (pydantic v2).

A request model validates what a client sent and becomes the typed command a service takes; a response
model is what a handler returns, serialised here and nowhere else; and both generate the OpenAPI
document (api/openapi.py via api/contract.py). Rules of the house:

- Strict: a JSON string is never coerced to a number, nor a number to a boolean. Query strings are text
  by nature, so query models convert their text explicitly and say so in their messages.
- A field whose wrong value has a message a client may depend on carries it (`Says`); every other
  failure gets the plain wording of schemas/errors.py. Field paths read `weekly_hours[2].end`.
- Nothing here imports Flask or a service: blueprints parse into these models and services take them.
"""
