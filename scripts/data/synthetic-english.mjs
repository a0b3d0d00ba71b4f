// Templated English written by the project itself (license-clean by construction).
//
// It gives the small language model clear, checkable next-token targets for the analyses:
// world facts ("The capital of France is Paris."), sequences (days, months, counting),
// arithmetic, opposites, simple stories with names that recur (induction), indirect-object
// sentences ("When Mary and John went to the store, John gave a drink to Mary."), lists and
// question/answer pairs. Every document is a list of paragraphs, every paragraph a list of
// sentences, so the sentences are known exactly.

// ---------------------------------------------------------------------------------------------
// Vocabulary and facts. Only facts that are stable and uncontroversial are listed.
// ---------------------------------------------------------------------------------------------

/** [country, capital, continent | null, main language | null]; "the" is added where English needs it. */
const COUNTRIES = [
  ['France', 'Paris', 'Europe', 'French'],
  ['Germany', 'Berlin', 'Europe', 'German'],
  ['Italy', 'Rome', 'Europe', 'Italian'],
  ['Spain', 'Madrid', 'Europe', 'Spanish'],
  ['Portugal', 'Lisbon', 'Europe', 'Portuguese'],
  ['Greece', 'Athens', 'Europe', 'Greek'],
  ['Poland', 'Warsaw', 'Europe', 'Polish'],
  ['Sweden', 'Stockholm', 'Europe', 'Swedish'],
  ['Norway', 'Oslo', 'Europe', 'Norwegian'],
  ['Finland', 'Helsinki', 'Europe', 'Finnish'],
  ['Denmark', 'Copenhagen', 'Europe', 'Danish'],
  ['the Netherlands', 'Amsterdam', 'Europe', 'Dutch'],
  ['Austria', 'Vienna', 'Europe', 'German'],
  ['Hungary', 'Budapest', 'Europe', 'Hungarian'],
  ['Ireland', 'Dublin', 'Europe', null],
  ['Iceland', 'Reykjavik', 'Europe', 'Icelandic'],
  ['Romania', 'Bucharest', 'Europe', 'Romanian'],
  ['the Czech Republic', 'Prague', 'Europe', 'Czech'],
  ['Ukraine', 'Kyiv', 'Europe', 'Ukrainian'],
  ['the United Kingdom', 'London', 'Europe', 'English'],
  ['Belgium', 'Brussels', 'Europe', null],
  ['Switzerland', 'Bern', 'Europe', null],
  ['Russia', 'Moscow', null, 'Russian'],
  ['Turkey', 'Ankara', null, 'Turkish'],
  ['Egypt', 'Cairo', 'Africa', 'Arabic'],
  ['Kenya', 'Nairobi', 'Africa', null],
  ['Nigeria', 'Abuja', 'Africa', null],
  ['Ghana', 'Accra', 'Africa', null],
  ['Morocco', 'Rabat', 'Africa', null],
  ['Ethiopia', 'Addis Ababa', 'Africa', 'Amharic'],
  ['Senegal', 'Dakar', 'Africa', null],
  ['Japan', 'Tokyo', 'Asia', 'Japanese'],
  ['China', 'Beijing', 'Asia', 'Chinese'],
  ['India', 'New Delhi', 'Asia', null],
  ['Thailand', 'Bangkok', 'Asia', 'Thai'],
  ['Vietnam', 'Hanoi', 'Asia', 'Vietnamese'],
  ['Indonesia', 'Jakarta', 'Asia', 'Indonesian'],
  ['South Korea', 'Seoul', 'Asia', 'Korean'],
  ['Iran', 'Tehran', 'Asia', 'Persian'],
  ['Pakistan', 'Islamabad', 'Asia', null],
  ['Bangladesh', 'Dhaka', 'Asia', 'Bengali'],
  ['Nepal', 'Kathmandu', 'Asia', 'Nepali'],
  ['Malaysia', 'Kuala Lumpur', 'Asia', 'Malay'],
  ['Saudi Arabia', 'Riyadh', 'Asia', 'Arabic'],
  ['Canada', 'Ottawa', 'North America', null],
  ['Mexico', 'Mexico City', 'North America', 'Spanish'],
  ['the United States', 'Washington', 'North America', 'English'],
  ['Cuba', 'Havana', 'North America', 'Spanish'],
  ['Brazil', 'Brasilia', 'South America', 'Portuguese'],
  ['Argentina', 'Buenos Aires', 'South America', 'Spanish'],
  ['Chile', 'Santiago', 'South America', 'Spanish'],
  ['Peru', 'Lima', 'South America', 'Spanish'],
  ['Colombia', 'Bogota', 'South America', 'Spanish'],
  ['Venezuela', 'Caracas', 'South America', 'Spanish'],
  ['Uruguay', 'Montevideo', 'South America', 'Spanish'],
  ['Australia', 'Canberra', 'Oceania', 'English'],
  ['New Zealand', 'Wellington', 'Oceania', 'English'],
];

/** [landmark, city, country] */
const LANDMARKS = [
  ['the Eiffel Tower', 'Paris', 'France'],
  ['the Colosseum', 'Rome', 'Italy'],
  ['Big Ben', 'London', 'the United Kingdom'],
  ['the Acropolis', 'Athens', 'Greece'],
  ['the Brandenburg Gate', 'Berlin', 'Germany'],
  ['the Statue of Liberty', 'New York', 'the United States'],
  ['the Golden Gate Bridge', 'San Francisco', 'the United States'],
  ['the Sydney Opera House', 'Sydney', 'Australia'],
  ['the Taj Mahal', 'Agra', 'India'],
  ['the Kremlin', 'Moscow', 'Russia'],
  ['the Sagrada Familia', 'Barcelona', 'Spain'],
  ['the Great Pyramid of Giza', 'Giza', 'Egypt'],
];

/** [name, symbol, atomic number] */
const ELEMENTS = [
  ['hydrogen', 'H', 1], ['helium', 'He', 2], ['lithium', 'Li', 3], ['carbon', 'C', 6],
  ['nitrogen', 'N', 7], ['oxygen', 'O', 8], ['fluorine', 'F', 9], ['neon', 'Ne', 10],
  ['sodium', 'Na', 11], ['magnesium', 'Mg', 12], ['aluminium', 'Al', 13], ['silicon', 'Si', 14],
  ['phosphorus', 'P', 15], ['sulfur', 'S', 16], ['chlorine', 'Cl', 17], ['argon', 'Ar', 18],
  ['potassium', 'K', 19], ['calcium', 'Ca', 20], ['iron', 'Fe', 26], ['copper', 'Cu', 29],
  ['zinc', 'Zn', 30], ['silver', 'Ag', 47], ['tin', 'Sn', 50], ['iodine', 'I', 53],
  ['gold', 'Au', 79], ['mercury', 'Hg', 80], ['lead', 'Pb', 82], ['uranium', 'U', 92],
];

/** [animal, young, sound verb, group noun | null] */
const ANIMALS = [
  ['cat', 'kitten', 'meows', null], ['dog', 'puppy', 'barks', 'pack'], ['cow', 'calf', 'moos', 'herd'],
  ['horse', 'foal', 'neighs', 'herd'], ['sheep', 'lamb', 'bleats', 'flock'], ['goat', 'kid', 'bleats', 'herd'],
  ['duck', 'duckling', 'quacks', 'flock'], ['pig', 'piglet', 'oinks', null], ['lion', 'cub', 'roars', 'pride'],
  ['bear', 'cub', 'growls', null], ['owl', 'owlet', 'hoots', null], ['frog', 'tadpole', 'croaks', null],
  ['goose', 'gosling', 'honks', 'gaggle'], ['hen', 'chick', 'clucks', 'flock'], ['deer', 'fawn', 'bellows', 'herd'],
  ['kangaroo', 'joey', 'grunts', 'mob'], ['swan', 'cygnet', 'hisses', null], ['wolf', 'pup', 'howls', 'pack'],
  ['mouse', 'pup', 'squeaks', null],
];
const ANIMAL_PLURALS = { sheep: 'sheep', deer: 'deer', mouse: 'mice', wolf: 'wolves', goose: 'geese' };

/** [thing, colour] */
const COLOURS = [
  ['the sky on a clear day', 'blue'], ['grass', 'green'], ['snow', 'white'], ['coal', 'black'],
  ['a ripe banana', 'yellow'], ['a ripe tomato', 'red'], ['a carrot', 'orange'], ['milk', 'white'],
  ['a lemon', 'yellow'], ['a lime', 'green'], ['blood', 'red'], ['chocolate', 'brown'],
  ['a pumpkin', 'orange'], ['the sea', 'blue'], ['a crow', 'black'], ['a plum', 'purple'],
  ['an emerald', 'green'], ['a ruby', 'red'], ['a sapphire', 'blue'], ['the sun at noon', 'yellow'],
];

const OPPOSITES = [
  ['hot', 'cold'], ['big', 'small'], ['up', 'down'], ['fast', 'slow'], ['day', 'night'],
  ['open', 'closed'], ['happy', 'sad'], ['light', 'dark'], ['old', 'young'], ['early', 'late'],
  ['full', 'empty'], ['heavy', 'light'], ['wet', 'dry'], ['loud', 'quiet'], ['strong', 'weak'],
  ['rich', 'poor'], ['left', 'right'], ['inside', 'outside'], ['first', 'last'], ['true', 'false'],
  ['hard', 'soft'], ['clean', 'dirty'], ['long', 'short'], ['thick', 'thin'], ['win', 'lose'],
  ['buy', 'sell'], ['push', 'pull'], ['give', 'take'], ['begin', 'end'], ['north', 'south'],
  ['east', 'west'], ['above', 'below'], ['high', 'low'], ['near', 'far'], ['always', 'never'],
];

/** [present, past] */
const IRREGULAR_VERBS = [
  ['go', 'went'], ['see', 'saw'], ['eat', 'ate'], ['take', 'took'], ['give', 'gave'], ['run', 'ran'],
  ['write', 'wrote'], ['speak', 'spoke'], ['drink', 'drank'], ['sing', 'sang'], ['swim', 'swam'],
  ['begin', 'began'], ['know', 'knew'], ['fly', 'flew'], ['grow', 'grew'], ['throw', 'threw'],
  ['buy', 'bought'], ['bring', 'brought'], ['think', 'thought'], ['teach', 'taught'], ['catch', 'caught'],
  ['sleep', 'slept'], ['keep', 'kept'], ['feel', 'felt'], ['leave', 'left'], ['find', 'found'],
  ['make', 'made'], ['sit', 'sat'], ['stand', 'stood'], ['tell', 'told'], ['come', 'came'],
  ['win', 'won'], ['build', 'built'], ['send', 'sent'], ['spend', 'spent'], ['hold', 'held'],
];

/** [singular, plural] */
const IRREGULAR_PLURALS = [
  ['mouse', 'mice'], ['child', 'children'], ['foot', 'feet'], ['tooth', 'teeth'], ['man', 'men'],
  ['woman', 'women'], ['goose', 'geese'], ['person', 'people'], ['sheep', 'sheep'], ['fish', 'fish'],
  ['leaf', 'leaves'], ['knife', 'knives'], ['wolf', 'wolves'], ['ox', 'oxen'], ['cactus', 'cacti'],
];

/** [worker, what they do, where] */
const JOBS = [
  ['doctor', 'helps sick people', 'a hospital'], ['teacher', 'teaches children', 'a school'],
  ['baker', 'bakes bread', 'a bakery'], ['pilot', 'flies planes', 'an airport'],
  ['farmer', 'grows food', 'a farm'], ['librarian', 'looks after books', 'a library'],
  ['chef', 'cooks meals', 'a kitchen'], ['nurse', 'cares for patients', 'a hospital'],
  ['firefighter', 'puts out fires', 'a fire station'], ['mechanic', 'repairs cars', 'a garage'],
  ['gardener', 'tends plants', 'a garden'], ['fisher', 'catches fish', 'a boat'],
  ['carpenter', 'builds things from wood', 'a workshop'], ['dentist', 'looks after teeth', 'a clinic'],
  ['painter', 'paints pictures', 'a studio'], ['postman', 'delivers letters', 'a post office'],
  ['judge', 'decides cases', 'a court'], ['astronomer', 'studies the stars', 'an observatory'],
];

/** [tool or body part, what it is for] */
const USES = [
  ['scissors', 'cut paper'], ['a hammer', 'drive nails'], ['a spoon', 'eat soup'], ['a pen', 'write'],
  ['a key', 'open a lock'], ['a broom', 'sweep the floor'], ['an umbrella', 'stay dry in the rain'],
  ['a ladder', 'reach high places'], ['a map', 'find the way'], ['a clock', 'tell the time'],
  ['a thermometer', 'measure temperature'], ['a saw', 'cut wood'], ['a needle', 'sew'],
  ['a camera', 'take pictures'], ['a telescope', 'look at the stars'], ['a kettle', 'boil water'],
  ['our eyes', 'see'], ['our ears', 'hear'], ['our nose', 'smell'], ['our tongue', 'taste'],
  ['our legs', 'walk'], ['our lungs', 'breathe'],
];

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];
const PLANETS = ['Mercury', 'Venus', 'Earth', 'Mars', 'Jupiter', 'Saturn', 'Uranus', 'Neptune'];
const RAINBOW = ['red', 'orange', 'yellow', 'green', 'blue', 'indigo', 'violet'];
const SEASONS = ['spring', 'summer', 'autumn', 'winter'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

const UNIT_FACTS = [
  'There are seven days in a week.', 'There are twelve months in a year.',
  'There are sixty minutes in an hour.', 'There are sixty seconds in a minute.',
  'There are twenty-four hours in a day.', 'There are four seasons in a year.',
  'There are one hundred centimetres in a metre.', 'There are one thousand metres in a kilometre.',
  'There are one thousand grams in a kilogram.', 'A dozen is twelve.', 'A century is one hundred years.',
  'A decade is ten years.', 'A triangle has three sides.', 'A square has four sides.',
  'A pentagon has five sides.', 'A hexagon has six sides.', 'An octagon has eight sides.',
  'A spider has eight legs.', 'An insect has six legs.', 'A bird has two wings.',
  'Water freezes at zero degrees Celsius.', 'Water boils at one hundred degrees Celsius.',
  'The Earth goes around the Sun.', 'The Moon goes around the Earth.', 'The Sun rises in the east.',
  'The Sun sets in the west.', 'There are eight planets in the solar system.',
  'The English alphabet has twenty-six letters.', 'A leap year has three hundred and sixty-six days.',
  'A year has three hundred and sixty-five days.', 'Ice is frozen water.', 'Plants need light to grow.',
];

const FEMALE = ['Anna', 'Mary', 'Lily', 'Emma', 'Sara', 'Lucy', 'Grace', 'Mia', 'Nora', 'Ella', 'Ruth',
  'Alice', 'Clara', 'Julia', 'Rosa', 'Hannah', 'Maya', 'Zoe', 'Ivy', 'Jane', 'Kate', 'Laura', 'Nina',
  'Olivia', 'Paula', 'Rita', 'Sophie', 'Tina', 'Vera', 'Wendy', 'Amara', 'Leila', 'Mei', 'Priya', 'Sofia'];
const MALE = ['John', 'Tom', 'Sam', 'Ben', 'Max', 'Leo', 'Jack', 'Paul', 'Peter', 'David', 'Mark', 'Adam',
  'Oscar', 'Hugo', 'Felix', 'Noah', 'Omar', 'Ravi', 'Ken', 'Luis', 'Carlos', 'Ivan', 'Jonas', 'Kofi',
  'Milo', 'Owen', 'Theo', 'Victor', 'Will', 'Eli', 'Arjun', 'Hiro', 'Mateo', 'Yusuf', 'George'];

const PLACES = ['park', 'market', 'library', 'beach', 'forest', 'school', 'river', 'farm', 'museum',
  'bakery', 'station', 'harbour', 'garden', 'zoo', 'hill', 'lake', 'village square', 'castle',
  'playground', 'bookshop', 'cafe', 'swimming pool', 'hospital', 'cinema', 'post office'];
const OBJECTS = ['ball', 'book', 'kite', 'key', 'hat', 'letter', 'map', 'shell', 'stone', 'cup',
  'box', 'ribbon', 'coin', 'feather', 'bottle', 'lamp', 'umbrella', 'basket', 'bell', 'scarf',
  'drawing', 'clock', 'flower', 'apple', 'sandwich', 'toy boat', 'compass', 'candle', 'puzzle', 'drum'];
const GIFTS = ['a drink', 'a book', 'a flower', 'an apple', 'a letter', 'a present', 'a ball',
  'a pencil', 'a cake', 'a ticket', 'a map', 'a necklace', 'a card', 'a sandwich', 'a bottle of water'];
const ADJ = ['red', 'blue', 'green', 'yellow', 'small', 'big', 'old', 'new', 'shiny', 'broken', 'golden',
  'wooden', 'tiny', 'heavy', 'soft', 'strange', 'beautiful', 'dusty', 'bright', 'striped'];
const PETS = [['dog', ['Rex', 'Buddy', 'Patch', 'Biscuit', 'Rusty']], ['cat', ['Whiskers', 'Tiger', 'Misty', 'Luna', 'Pepper']],
  ['rabbit', ['Snowy', 'Clover', 'Hopper']], ['parrot', ['Polly', 'Kiwi', 'Mango']], ['horse', ['Star', 'Thunder', 'Daisy']]];
const MEALS = ['bread and cheese', 'apples and pears', 'hot soup', 'sandwiches', 'rice and beans', 'fish and potatoes',
  'pasta with tomatoes', 'eggs and toast', 'oranges and grapes', 'honey cake'];
const FEELINGS = ['happy', 'sad', 'tired', 'excited', 'worried', 'proud', 'surprised', 'hungry', 'sleepy', 'curious'];
const WEATHER = ['sunny', 'rainy', 'windy', 'cloudy', 'snowy', 'foggy', 'stormy', 'warm', 'cold', 'bright'];
const TIMES = ['One morning', 'One afternoon', 'One evening', 'On Saturday', 'On a rainy day', 'Last summer',
  'Early one day', 'After school', 'At dawn', 'On a cold winter night', 'Yesterday', 'Once upon a time'];
const FOODS = ['bread', 'milk', 'eggs', 'apples', 'rice', 'cheese', 'tea', 'butter', 'carrots', 'onions',
  'potatoes', 'beans', 'oranges', 'flour', 'sugar', 'honey', 'tomatoes', 'soup', 'fish', 'pasta', 'grapes'];

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth',
  'tenth', 'eleventh', 'twelfth'];

/** English words for 0..999. */
export function numberWord(n) {
  if (n < 20) return NUMBER_WORDS[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? '-' + NUMBER_WORDS[n % 10] : '');
  const rest = n % 100;
  return `${NUMBER_WORDS[Math.floor(n / 100)]} hundred${rest ? ' and ' + numberWord(rest) : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const article = (w) => (/^[aeiou]/i.test(w) ? 'an' : 'a');
/** "a, b and c" (Oxford comma optional by chance). */
function listOf(rng, xs) {
  if (xs.length === 1) return xs[0];
  const comma = rng.chance(0.5) ? ',' : '';
  return `${xs.slice(0, -1).join(', ')}${comma} and ${xs[xs.length - 1]}`;
}

function person(rng, exclude = []) {
  for (;;) {
    const female = rng.chance(0.5);
    const name = rng.pick(female ? FEMALE : MALE);
    if (!exclude.includes(name)) {
      return female
        ? { name, he: 'she', him: 'her', his: 'her' }
        : { name, he: 'he', him: 'him', his: 'his' };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Document kinds. Each returns { kind, paragraphs: string[][] }.
// ---------------------------------------------------------------------------------------------

function countryFacts(rng) {
  const chosen = rng.sample(COUNTRIES, 3 + rng.int(4));
  const sentences = [];
  for (const [country, capital, continent, language] of chosen) {
    const C = cap(country);
    const forms = [
      `The capital of ${country} is ${capital}.`,
      `${capital} is the capital of ${country}.`,
      `${capital} is the capital city of ${country}.`,
      `The capital city of ${country} is ${capital}.`,
    ];
    sentences.push(rng.pick(forms));
    if (continent && rng.chance(0.6)) {
      sentences.push(rng.pick([`${C} is a country in ${continent}.`, `${C} is in ${continent}.`,
        `${capital} is a city in ${continent}.`]));
    }
    if (language && rng.chance(0.6)) {
      sentences.push(rng.pick([`People in ${country} speak ${language}.`, `The main language of ${country} is ${language}.`,
        `In ${country}, most people speak ${language}.`]));
    }
  }
  if (rng.chance(0.3)) {
    const [landmark, city, country] = rng.pick(LANDMARKS);
    sentences.push(rng.pick([`${cap(landmark)} is in ${city}.`, `${cap(landmark)} is in ${city}, ${country}.`,
      `You can see ${landmark} in ${city}.`]));
  }
  return { kind: 'facts-geography', paragraphs: [sentences] };
}

function countryQuiz(rng) {
  const chosen = rng.sample(COUNTRIES, 3 + rng.int(3));
  const lines = [];
  for (const [country, capital, continent, language] of chosen) {
    const r = rng.int(3);
    if (r === 0 || (r === 1 && !language) || (r === 2 && !continent)) {
      lines.push([`Q: What is the capital of ${country}?`, `A: The capital of ${country} is ${capital}.`]);
    } else if (r === 1) {
      lines.push([`Q: What language do people speak in ${country}?`, `A: They speak ${language}.`]);
    } else {
      lines.push([`Q: Which continent is ${country} in?`, `A: ${cap(country)} is in ${continent}.`]);
    }
  }
  if (rng.chance(0.4)) {
    const [landmark, city] = rng.pick(LANDMARKS);
    lines.push([`Q: In which city is ${landmark}?`, `A: ${cap(landmark)} is in ${city}.`]);
  }
  return { kind: 'quiz', paragraphs: lines };
}

function scienceFacts(rng) {
  const s = [];
  for (const [name, symbol, z] of rng.sample(ELEMENTS, 2 + rng.int(3))) {
    s.push(rng.pick([`The chemical symbol for ${name} is ${symbol}.`, `${cap(name)} has the symbol ${symbol}.`,
      `The atomic number of ${name} is ${z}.`, `${cap(name)} has the atomic number ${numberWord(z)}.`,
      `${symbol} is the symbol for ${name}.`]));
  }
  for (const f of rng.sample(UNIT_FACTS, 2 + rng.int(3))) s.push(f);
  if (rng.chance(0.4)) {
    const i = rng.int(PLANETS.length);
    s.push(rng.pick([
      `${PLANETS[i]} is the ${ORDINALS[i]} planet from the Sun.`,
      `The ${ORDINALS[i]} planet from the Sun is ${PLANETS[i]}.`,
      `The planets in order from the Sun are ${listOf(rng, PLANETS)}.`,
    ]));
  }
  return { kind: 'facts-science', paragraphs: [rng.shuffle(s)] };
}

function natureFacts(rng) {
  const s = [];
  for (const [animal, young, sound, group] of rng.sample(ANIMALS, 2 + rng.int(3))) {
    const forms = [`A baby ${animal} is called ${article(young)} ${young}.`, `A young ${animal} is called ${article(young)} ${young}.`,
      `The ${animal} ${sound}.`, `${cap(article(animal))} ${animal} ${sound}.`];
    if (group) forms.push(`A group of ${ANIMAL_PLURALS[animal] ?? animal + 's'} is called ${article(group)} ${group}.`);
    s.push(rng.pick(forms));
  }
  for (const [thing, colour] of rng.sample(COLOURS, 1 + rng.int(3))) {
    s.push(rng.pick([`The colour of ${thing} is ${colour}.`, `${cap(thing)} is ${colour}.`]));
  }
  if (rng.chance(0.3)) s.push(`The colours of the rainbow are ${listOf(rng, RAINBOW)}.`);
  if (rng.chance(0.3)) {
    const i = rng.int(4);
    s.push(rng.pick([`After ${SEASONS[i]} comes ${SEASONS[(i + 1) % 4]}.`, `The four seasons are ${listOf(rng, SEASONS)}.`]));
  }
  return { kind: 'facts-nature', paragraphs: [rng.shuffle(s)] };
}

function wordFacts(rng) {
  const s = [];
  for (const [a, b] of rng.sample(OPPOSITES, 1 + rng.int(3))) {
    s.push(rng.pick([`The opposite of ${a} is ${b}.`, `${cap(a)} is the opposite of ${b}.`]));
  }
  for (const [v, p] of rng.sample(IRREGULAR_VERBS, 1 + rng.int(3))) {
    s.push(rng.pick([`The past tense of ${v} is ${p}.`, `Today I ${v}; yesterday I ${p}.`]));
  }
  for (const [one, many] of rng.sample(IRREGULAR_PLURALS, rng.int(3))) {
    s.push(rng.pick([`The plural of ${one} is ${many}.`, `One ${one}, two ${many}.`]));
  }
  for (const [job, does, where] of rng.sample(JOBS, 1 + rng.int(2))) {
    s.push(rng.pick([`${cap(article(job))} ${job} ${does}.`, `${cap(article(job))} ${job} works in ${where}.`,
      `${cap(article(job))} ${job} ${does} in ${where}.`]));
  }
  for (const [tool, use] of rng.sample(USES, 1 + rng.int(2))) {
    s.push(/^our /.test(tool) ? `We use ${tool} to ${use}.` : rng.pick([`We use ${tool} to ${use}.`, `You ${use} with ${tool}.`]));
  }
  return { kind: 'facts-words', paragraphs: [rng.shuffle(s)] };
}

function sequences(rng) {
  const s = [];
  const k = 2 + rng.int(3);
  for (let n = 0; n < k; n++) {
    switch (rng.int(8)) {
      case 0: { const i = rng.int(7); s.push(rng.pick([`After ${DAYS[i]} comes ${DAYS[(i + 1) % 7]}.`,
        `The day after ${DAYS[i]} is ${DAYS[(i + 1) % 7]}.`, `The day before ${DAYS[(i + 1) % 7]} is ${DAYS[i]}.`])); break; }
      case 1: { const i = rng.int(12); s.push(rng.pick([`After ${MONTHS[i]} comes ${MONTHS[(i + 1) % 12]}.`,
        `${MONTHS[i]} is the ${ORDINALS[i]} month of the year.`, `The ${ORDINALS[i]} month of the year is ${MONTHS[i]}.`])); break; }
      case 2: { const i = rng.int(5); s.push(`The days of the week are ${listOf(rng, DAYS.slice(i).concat(DAYS.slice(0, i)))}.`); break; }
      case 3: { const a = rng.int(30); const len = 5 + rng.int(8); const words = rng.chance(0.5) && a + len < 100;
        const xs = Array.from({ length: len }, (_, j) => (words ? numberWord(a + j) : String(a + j)));
        s.push(`${rng.pick(['Counting', 'Count with me', 'Let us count', 'We count'])}: ${xs.join(', ')}.`); break; }
      case 4: { const step = rng.pick([2, 3, 5, 10]); const a = step * rng.int(5); const len = 5 + rng.int(5);
        const xs = Array.from({ length: len }, (_, j) => String(a + step * j));
        s.push(`Counting in ${step === 2 ? 'twos' : step === 3 ? 'threes' : step === 5 ? 'fives' : 'tens'}: ${xs.join(', ')}.`); break; }
      case 5: { const a = 5 + rng.int(15); const len = 4 + rng.int(4);
        const xs = Array.from({ length: len }, (_, j) => numberWord(a - j));
        s.push(`Counting down: ${xs.join(', ')}.`); break; }
      case 6: { const i = rng.int(20); s.push(rng.pick([`The letters ${ALPHABET.slice(i, i + 5 + rng.int(3)).join(', ')} come in order.`,
        `After the letter ${ALPHABET[i]} comes the letter ${ALPHABET[i + 1]}.`])); break; }
      default: { const i = rng.int(7); s.push(`The months ${MONTHS.slice(i, i + 4 + rng.int(2)).join(', ')} follow one another.`); }
    }
  }
  return { kind: 'sequences', paragraphs: [s] };
}

function arithmetic(rng) {
  const s = [];
  const k = 3 + rng.int(4);
  const words = rng.chance(0.5);
  for (let n = 0; n < k; n++) {
    const a = rng.int(13);
    const b = rng.int(13);
    const op = rng.int(4);
    if (words) {
      if (op === 0) s.push(`${cap(numberWord(a))} plus ${numberWord(b)} is ${numberWord(a + b)}.`);
      else if (op === 1) s.push(`${cap(numberWord(a + b))} minus ${numberWord(b)} is ${numberWord(a)}.`);
      else if (op === 2) s.push(`${cap(numberWord(a))} times ${numberWord(b)} is ${numberWord(a * b)}.`);
      else s.push(`Half of ${numberWord(2 * a)} is ${numberWord(a)}.`);
    } else if (op === 0) s.push(`${a} + ${b} = ${a + b}.`);
    else if (op === 1) s.push(`${a + b} - ${b} = ${a}.`);
    else if (op === 2) s.push(`${a} x ${b} = ${a * b}.`);
    else s.push(`${a + 1} is one more than ${a}.`);
  }
  if (rng.chance(0.4)) {
    const p = person(rng);
    const a = 3 + rng.int(8);
    const b = 1 + rng.int(a - 2); // leaves at least two, so the plural noun fits
    const thing = rng.pick(['apples', 'pencils', 'marbles', 'stickers', 'cookies', 'books', 'coins', 'shells']);
    s.push(`${p.name} had ${numberWord(a)} ${thing}.`, `${cap(p.he)} gave away ${numberWord(b)}.`,
      `Now ${p.he} has ${numberWord(a - b)} ${thing}.`);
  }
  return { kind: 'arithmetic', paragraphs: [s] };
}

/** Indirect-object sentences (Wang et al. 2022 style): the answer is the name that appears once. */
function indirectObject(rng) {
  const a = person(rng);
  const b = person(rng, [a.name]);
  const place = rng.pick(PLACES);
  const gift = rng.pick(GIFTS);
  const [first, second] = rng.chance(0.5) ? [a, b] : [b, a];
  const templates = [
    `When ${first.name} and ${second.name} went to the ${place}, ${b.name} gave ${gift} to ${a.name}.`,
    `When ${first.name} and ${second.name} got ${gift} at the ${place}, ${b.name} decided to give it to ${a.name}.`,
    `After ${first.name} and ${second.name} went to the ${place}, ${b.name} gave ${gift} to ${a.name}.`,
    `Then, ${first.name} and ${second.name} were working at the ${place}. ${b.name} decided to give ${gift} to ${a.name}.`,
    `Then, ${first.name} and ${second.name} had a long argument, and afterwards ${b.name} said to ${a.name} that it was fine.`,
    `While ${first.name} and ${second.name} were walking to the ${place}, ${b.name} handed ${gift} to ${a.name}.`,
    `${first.name} and ${second.name} met at the ${place}. ${b.name} brought ${gift} for ${a.name}.`,
    `The ${place} was busy when ${first.name} and ${second.name} arrived, so ${b.name} passed ${gift} to ${a.name}.`,
  ];
  const s = [rng.pick(templates)];
  if (rng.chance(0.5)) s.push(`${a.name} said thank you to ${b.name}.`);
  return { kind: 'indirect-object', paragraphs: [s] };
}

function story(rng) {
  const hero = person(rng);
  const friend = person(rng, [hero.name]);
  const [petKind, petNames] = rng.pick(PETS);
  const pet = rng.pick(petNames);
  const place = rng.pick(PLACES);
  const place2 = rng.pick(PLACES.filter((p) => p !== place));
  const obj = rng.pick(OBJECTS);
  const adj = rng.pick(ADJ);
  const weather = rng.pick(WEATHER);
  const H = hero.name;
  const F = friend.name;
  const he = hero.he;
  const He = cap(hero.he);
  const his = hero.his;

  const opening = [
    [`${rng.pick(TIMES)}, ${H} went to the ${place} with ${his} ${petKind}, ${pet}.`],
    [`${H} lived in a small house near the ${place}.`, `Every day, ${he} walked there with ${his} ${petKind}, ${pet}.`],
    [`There was once a ${rng.pick(hero.he === 'she' ? ['girl', 'child'] : ['boy', 'child'])} called ${H}.`,
      `${He} had a ${petKind} named ${pet}.`, `One day, ${he} took ${pet} to the ${place}.`],
    [`It was a ${weather} day, and ${H} was ${rng.pick(FEELINGS)}.`, `${He} decided to visit the ${place} with ${his} ${petKind}, ${pet}.`],
  ];
  // The story always finds the object; then 0-2 optional events, in this order.
  const found = [`At the ${place}, ${H} found a ${adj} ${obj}.`, rng.pick([
    `"Look, ${pet}!" said ${H}. "What a ${adj} ${obj}!"`,
    `${He} picked up the ${obj} and put it in ${his} pocket.`,
    `${He} wondered who had lost the ${obj}.`,
  ])];
  const optional = [
    { meetsFriend: true, s: [`On the way home, ${H} met ${F}.`, `${F} was looking for a ${adj} ${obj}.`, `"Have you seen my ${obj}?" asked ${F}.`] },
    { meetsFriend: false, s: [`Suddenly, it began to ${rng.pick(['rain', 'snow', 'get dark', 'get windy'])}.`, `${H} held the ${obj} tightly and hurried on.`] },
    { meetsFriend: false, s: [`${pet} the ${petKind} ran off towards the ${place2}.`, `${H} ran after ${pet}, calling "${pet}! ${pet}!"`] },
    { meetsFriend: true, s: [`Later, ${H} played near the ${place2} with ${his} friend ${F} until lunch.`, `Then they ate ${rng.pick(MEALS)}.`] },
  ];
  const chosen = optional.filter(() => rng.chance(0.45)).slice(0, 2);
  const metFriend = chosen.some((o) => o.meetsFriend);
  const ranOff = chosen.includes(optional[2]);
  const endings = [
    [`That evening, ${H} told ${his} ${rng.pick(['mother', 'father', 'grandmother', 'grandfather', 'sister', 'brother'])} about the ${obj}.`,
      `${He} felt ${rng.pick(FEELINGS)}, and soon ${he} fell asleep.`],
    [`${H} kept the ${obj} on a shelf in ${his} room, and ${pet} slept beside it.`],
  ];
  if (metFriend) {
    endings.push([`In the end, ${H} gave the ${obj} to ${F}.`, `${F} smiled and said, "Thank you, ${H}."`],
      [`${H} and ${F} promised to meet at the ${place} again the next day.`]);
  }
  if (ranOff) endings.push([`At last, ${H} found ${pet} at the ${place2}.`, `They walked home together, tired but ${rng.pick(['happy', 'glad', 'content'])}.`]);
  const paragraphs = [rng.pick(opening), found, ...chosen.map((o) => o.s), rng.pick(endings)];
  // Short stories read as one paragraph; longer ones keep their paragraph breaks.
  return { kind: 'story', paragraphs: rng.chance(0.5) ? [paragraphs.flat()] : paragraphs };
}

function listsAndRoutines(rng) {
  const p = person(rng);
  const s = [];
  switch (rng.int(4)) {
    case 0: {
      const items = rng.sample(FOODS, 3 + rng.int(4));
      s.push(`${p.name} wrote a shopping list: ${listOf(rng, items)}.`);
      s.push(`At the market, ${p.he} bought the ${items[0]} first and the ${items[items.length - 1]} last.`);
      break;
    }
    case 1: {
      const start = rng.int(5);
      const subjects = ['maths', 'music', 'history', 'art', 'science', 'English', 'sport', 'geography'];
      for (let i = 0; i < 3 + rng.int(3); i++) s.push(`On ${DAYS[(start + i) % 7]}, ${p.name} has ${rng.pick(subjects)}.`);
      break;
    }
    case 2: {
      const hour = 6 + rng.int(3);
      s.push(`${p.name} wakes up at ${numberWord(hour)} o'clock.`);
      s.push(`${cap(p.he)} has breakfast at ${numberWord(hour)} thirty.`);
      s.push(`At ${numberWord(hour + 1)} o'clock, ${p.he} goes to ${rng.pick(['school', 'work', 'the market', 'the library'])}.`);
      s.push(`${cap(p.he)} comes home at ${numberWord(hour - 3)} o'clock in the afternoon.`);
      break;
    }
    default: {
      const city = rng.pick(COUNTRIES)[1];
      const w = rng.pick(WEATHER);
      const t = rng.int(35);
      s.push(`Today in ${city} the weather is ${w}.`);
      s.push(`The temperature is ${numberWord(t)} degrees.`);
      s.push(rng.pick([`Tomorrow it will be ${rng.pick(WEATHER)}.`, `${p.name} will take an umbrella, just in case.`,
        `It is a good day to go to the ${rng.pick(PLACES)}.`]));
    }
  }
  return { kind: 'lists', paragraphs: [s] };
}

const KINDS = [
  [countryFacts, 14], [countryQuiz, 6], [scienceFacts, 8], [natureFacts, 8], [wordFacts, 8],
  [sequences, 8], [arithmetic, 8], [indirectObject, 10], [story, 22], [listsAndRoutines, 8],
];

/**
 * Generate synthetic documents until their text reaches `targetBytes`.
 * @param {ReturnType<import('./rng.mjs').makeRng>} rng
 * @param {number} targetBytes
 * @returns {{ kind: string, paragraphs: string[][] }[]}
 */
export function generateSyntheticDocuments(rng, targetBytes) {
  const total = KINDS.reduce((acc, [, w]) => acc + w, 0);
  const docs = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    let r = rng.next() * total;
    let gen = KINDS[0][0];
    for (const [g, w] of KINDS) {
      if ((r -= w) < 0) { gen = g; break; }
    }
    const doc = gen(rng);
    docs.push(doc);
    bytes += doc.paragraphs.reduce((acc, p) => acc + p.join(' ').length + 1, 1);
  }
  return docs;
}
