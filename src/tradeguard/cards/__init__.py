"""Cards on the main service's side: the vault client, the card routes and page.

Card numbers never reach this package: browsers send them to the vault's intake
endpoint, and the main service sees only the vault's card ids, brands and last digits.
"""
