"""Scrapy: where pages come from (feeds, URL lists) and how they are fetched."""
