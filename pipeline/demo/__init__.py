"""The bundled demo: static French sites served on 127.0.0.1 and the sources file that crawls them."""
