"""CPD curation as content files: collections, inset-day programmes, timetables, validated
editing and handout packs."""
