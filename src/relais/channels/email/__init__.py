"""E-mail: reading what arrives (MIME, automatic mail, bounces, threads) and showing it safely."""
