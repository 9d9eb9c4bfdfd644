"""Where the built-in tasks' stems come from: synthesised per role (a SoundFont renderer and a formant
singer) into cached banks, or cut from a local multitrack dataset (``stems=DIR``)."""
