"""The plugins shipped with lotas; each is found through the ``lotas`` entry-point group."""
