"""The matching engine: price-time priority books, pure logic."""
