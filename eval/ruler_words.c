/* Word lists for the RULER-style generators (our own lists, not wonderwords'): needle keys are
 * "adjective-noun" pairs as in RULER's niah.py; common-word extraction draws from all three. */
#include <stddef.h>

const char *const ruler_adjectives[] = {
    "able", "absent", "acid", "active", "agile", "ancient", "angry", "anxious", "arctic", "autumn",
    "awake", "bald", "bare", "bitter", "blank", "bold", "bored", "brave", "brief", "bright",
    "broad", "broken", "bumpy", "busy", "calm", "careful", "cheap", "chilly", "clean", "clever",
    "cloudy", "clumsy", "coastal", "cold", "cosy", "crisp", "crooked", "cruel", "curious", "curly",
    "damp", "daring", "dark", "dear", "deep", "dense", "dizzy", "dry", "dull", "dusty", "eager",
    "early", "easy", "elder", "empty", "equal", "even", "exact", "faint", "fair", "false", "famous",
    "fancy", "fast", "fierce", "final", "firm", "flat", "fluffy", "fond", "fragile", "free",
    "fresh", "frozen", "funny", "gentle", "giant", "glad", "gloomy", "golden", "grand", "great",
    "green", "grumpy", "hairy", "happy", "hard", "harsh", "heavy", "hidden", "hollow", "honest",
    "huge", "humble", "hungry", "icy", "idle", "jolly", "juicy", "keen", "kind", "large", "late",
    "lazy", "lean", "level", "light", "little", "lively", "lonely", "long", "loose", "loud",
    "lucky", "mad", "mellow", "mighty", "mild", "modern", "muddy", "narrow", "neat", "nervous",
    "new", "noble", "noisy", "odd", "old", "open", "pale", "plain", "polite", "poor", "proud",
    "purple", "quick", "quiet", "rapid", "rare", "raw", "ready", "rich", "rigid", "ripe", "rough",
    "round", "royal", "rusty", "sad", "safe", "salty", "sandy", "scary", "sharp", "shiny", "short",
    "shy", "silent", "silky", "simple", "sleepy", "slim", "slow", "small", "smooth", "soft",
    "solid", "sour", "spare", "spicy", "steep", "sticky", "stiff", "stormy", "strange", "strict",
    "strong", "sunny", "super", "sweet", "swift", "tall", "tame", "tender", "thick", "thin", "tidy",
    "tiny", "tired", "tough", "true", "ugly", "upset", "urban", "vast", "vivid", "warm", "weak",
    "wealthy", "weary", "wet", "white", "wide", "wild", "windy", "wise", "witty", "wooden", "young",
    "zany",
};
const size_t ruler_adjectives_n = sizeof ruler_adjectives / sizeof ruler_adjectives[0];

const char *const ruler_nouns[] = {
    "acorn", "actor", "airport", "album", "anchor", "angle", "ankle", "apple", "apron", "arch",
    "arrow", "atlas", "attic", "avenue", "badge", "bakery", "balloon", "bamboo", "banana", "bandit",
    "barn", "barrel", "basket", "beacon", "beard", "beetle", "bell", "bench", "berry", "bicycle",
    "blanket", "blossom", "boat", "bonnet", "bottle", "boulder", "bracelet", "branch", "breeze",
    "brick", "bridge", "broom", "bubble", "bucket", "buffalo", "bugle", "bundle", "butter",
    "button", "cabin", "cactus", "camel", "candle", "canoe", "canyon", "carpet", "carrot", "castle",
    "cavern", "cellar", "chain", "chair", "cherry", "chimney", "circus", "cliff", "clock", "cloud",
    "clover", "coat", "comet", "compass", "copper", "cottage", "crayon", "crown", "crystal", "cup",
    "curtain", "cushion", "dagger", "daisy", "desert", "diamond", "dolphin", "donkey", "dragon",
    "drum", "eagle", "easel", "elbow", "engine", "falcon", "feather", "fence", "fiddle", "finger",
    "flag", "flute", "forest", "fossil", "fountain", "fox", "garden", "garlic", "giraffe",
    "glacier", "glove", "goat", "goblet", "hammer", "harbor", "harp", "helmet", "hill", "honey",
    "horse", "island", "jacket", "jar", "jewel", "kettle", "kite", "ladder", "lagoon", "lamp",
    "lantern", "lemon", "lighthouse", "lily", "lion", "lizard", "magnet", "mango", "maple",
    "marble", "meadow", "mirror", "mitten", "monkey", "moon", "mountain", "muffin", "needle",
    "nest", "oak", "ocean", "olive", "orchard", "otter", "owl", "paddle", "palace", "parrot",
    "peach", "pebble", "pencil", "pepper", "piano", "pillow", "pine", "planet", "plum", "pocket",
    "pond", "pony", "pumpkin", "puzzle", "quilt", "rabbit", "raft", "rainbow", "raven", "ribbon",
    "river", "robin", "rocket", "saddle", "sailor", "salmon", "scarf", "shell", "shovel", "silver",
    "skate", "sled", "slipper", "spider", "spoon", "squirrel", "statue", "stone", "storm", "stove",
    "swan", "sword", "table", "teapot", "temple", "thistle", "thunder", "tiger", "tomato", "torch",
    "tower", "tractor", "train", "tulip", "tunnel", "turtle", "umbrella", "valley", "violin",
    "volcano", "wagon", "walnut", "whale", "whistle", "willow", "window", "wizard", "wolf", "zebra",
};
const size_t ruler_nouns_n = sizeof ruler_nouns / sizeof ruler_nouns[0];

const char *const ruler_verbs[] = {
    "accept", "admire", "argue", "arrive", "bake", "balance", "bathe", "beg", "behave", "blink",
    "boil", "borrow", "bounce", "breathe", "bury", "calculate", "carry", "chase", "cheer", "chew",
    "clap", "climb", "collect", "comb", "compare", "cough", "crawl", "cycle", "dance", "deliver",
    "dig", "dream", "drift", "drop", "earn", "escape", "explore", "fetch", "float", "fold",
    "gather", "glide", "grab", "greet", "guard", "guess", "hammer", "hover", "hunt", "hurry",
    "invent", "jog", "juggle", "kneel", "knit", "knock", "laugh", "launch", "lift", "listen",
    "march", "melt", "mend", "mix", "nod", "observe", "offer", "paint", "pedal", "plant", "polish",
    "pour", "pray", "print", "pull", "punch", "push", "question", "race", "rescue", "rinse", "roar",
    "roll", "rush", "sail", "scatter", "scrub", "search", "shiver", "sing", "skip", "sneeze",
    "sparkle", "splash", "squeeze", "stir", "stretch", "swim", "tickle", "travel", "tremble",
    "tumble", "twist", "unlock", "vanish", "wander", "wash", "whisper", "wink", "wobble", "wrap",
    "yawn",
};
const size_t ruler_verbs_n = sizeof ruler_verbs / sizeof ruler_verbs[0];
